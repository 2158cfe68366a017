# Tests of the workflow side of the client: libcairn's replay engine
# (no server), and workflows end to end through the real cairnd with C
# workflow workers, task workers and the cairn CLI. Included from
# tests/CMakeLists.txt.
if(NOT TARGET PkgConfig::CMOCKA)
	pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)
endif()

# The replay engine against synthetic logs: it reaches the library's
# internal interface (wf_internal.h), which libcairn.a keeps linkable.
add_executable(wf_replay_test ${CMAKE_CURRENT_SOURCE_DIR}/wf_replay_test.c)
target_include_directories(wf_replay_test PRIVATE
	${PROJECT_SOURCE_DIR}/client
	$<TARGET_PROPERTY:cairn_proto,INTERFACE_INCLUDE_DIRECTORIES>)
target_compile_options(wf_replay_test PRIVATE ${CAIRN_WARNINGS})
target_link_libraries(wf_replay_test PRIVATE cairn_static nng::nng
	PkgConfig::PROTOBUF_C PkgConfig::CMOCKA Threads::Threads)
add_dependencies(wf_replay_test cairn_proto)
add_test(NAME wf_replay_test COMMAND wf_replay_test)
set_tests_properties(wf_replay_test PROPERTIES TIMEOUT 60)
