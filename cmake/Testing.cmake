# hookguard_test(NAME SRCS a_test.cc DEPS lib...): one gtest binary per test
# file, registered with ctest (leveldb style: foo_test.cc beside foo.cc).
if(HOOKGUARD_BUILD_TESTS)
  enable_testing()
endif()

function(hookguard_test name)
  if(NOT HOOKGUARD_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(T "" "" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${T_SRCS})
  target_compile_options(${name} PRIVATE ${HOOKGUARD_WARNINGS})
  target_link_libraries(${name} PRIVATE ${T_DEPS} GTest::gmock GTest::gtest_main)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS "unit;${T_LABELS}")
endfunction()

# hookguard_library(NAME SRCS ... DEPS ...): a static library of our own code,
# warnings on, includes rooted at the repository top ("server/...").
function(hookguard_library name)
  cmake_parse_arguments(L "" "" "SRCS;DEPS" ${ARGN})
  add_library(${name} STATIC ${L_SRCS})
  target_compile_options(${name} PRIVATE ${HOOKGUARD_WARNINGS})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${L_DEPS})
endfunction()
