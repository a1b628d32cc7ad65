# cmake -DBUILD_DIR=... -DEXAMPLE_DIR=... -DWORK_DIR=... -P install_consumer_test.cmake
# Installs the hookguard_client component to WORK_DIR/prefix, then configures
# and builds EXAMPLE_DIR with find_package(hookguard) against that prefix.
file(REMOVE_RECURSE ${WORK_DIR})
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}")
  endif()
endfunction()
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --component hookguard_client --prefix ${WORK_DIR}/prefix)
run(${CMAKE_COMMAND} -S ${EXAMPLE_DIR} -B ${WORK_DIR}/build -G Ninja
    -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DCMAKE_BUILD_TYPE=Release)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run(${WORK_DIR}/build/webhook_guard_example 127.0.0.1:1)
