# Third-party dependencies, all from Debian 12's packages (see docs/dependencies.md).
find_package(Threads REQUIRED)
find_package(Protobuf REQUIRED)
find_package(gRPC CONFIG REQUIRED)
find_package(absl CONFIG REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(simdjson CONFIG REQUIRED)
find_program(GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)

# SOCI ships no CMake package on Debian: wrap its libraries in one target.
find_path(SOCI_INCLUDE_DIR soci/soci.h REQUIRED)
find_path(PostgreSQL_INCLUDE_DIR libpq-fe.h PATHS /usr/include/postgresql REQUIRED)
find_library(SOCI_CORE_LIBRARY soci_core REQUIRED)
find_library(SOCI_SQLITE3_LIBRARY soci_sqlite3 REQUIRED)
find_library(SOCI_POSTGRESQL_LIBRARY soci_postgresql REQUIRED)
find_library(PQ_LIBRARY pq REQUIRED)
find_library(SQLITE3_LIBRARY sqlite3 REQUIRED)
add_library(hookguard_soci INTERFACE)
target_include_directories(hookguard_soci SYSTEM INTERFACE ${SOCI_INCLUDE_DIR} ${PostgreSQL_INCLUDE_DIR})
target_link_libraries(hookguard_soci INTERFACE
  ${SOCI_POSTGRESQL_LIBRARY} ${SOCI_SQLITE3_LIBRARY} ${SOCI_CORE_LIBRARY}
  ${PQ_LIBRARY} ${SQLITE3_LIBRARY} ${CMAKE_DL_LIBS})

if(HOOKGUARD_BUILD_TESTS)
  find_package(GTest REQUIRED)
  find_package(benchmark CONFIG)
endif()

# cpp-httplib (Debian builds it as a shared library) serves /metrics.
find_path(HTTPLIB_INCLUDE_DIR httplib.h REQUIRED)
find_library(HTTPLIB_LIBRARY cpp-httplib REQUIRED)

# jemalloc (HOOKGUARD_JEMALLOC): the allocator of the two servers. Linked as
# a library, it replaces malloc for the whole process (gRPC included).
add_library(hookguard_allocator INTERFACE)
if(HOOKGUARD_JEMALLOC)
  find_library(JEMALLOC_LIBRARY jemalloc REQUIRED)
  target_link_libraries(hookguard_allocator INTERFACE ${JEMALLOC_LIBRARY})
  target_compile_definitions(hookguard_allocator INTERFACE HOOKGUARD_JEMALLOC=1)
endif()
