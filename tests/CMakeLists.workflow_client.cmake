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

# The workflow worker against a fake server that speaks the workflow rpcs
# (a REP socket on an ipc path): the worker's side of the protocol.
add_executable(wf_worker_test ${CMAKE_CURRENT_SOURCE_DIR}/wf_worker_test.c)
target_include_directories(wf_worker_test PRIVATE
	$<TARGET_PROPERTY:cairn_proto,INTERFACE_INCLUDE_DIRECTORIES>)
target_compile_options(wf_worker_test PRIVATE ${CAIRN_WARNINGS})
target_link_libraries(wf_worker_test PRIVATE cairn_static nng::nng
	PkgConfig::PROTOBUF_C PkgConfig::CMOCKA Threads::Threads)
add_dependencies(wf_worker_test cairn_proto)
add_test(NAME wf_worker_test COMMAND wf_worker_test)
set_tests_properties(wf_worker_test PROPERTIES TIMEOUT 60)

if(TARGET cairnd)
	# The test flows, shared by the end-to-end tests and wf_test_worker,
	# a workflow worker in a process of its own (to be killed).
	add_library(wf_flows STATIC ${CMAKE_CURRENT_SOURCE_DIR}/wf_flows.c)
	target_link_libraries(wf_flows PUBLIC cairn_static)
	target_compile_options(wf_flows PRIVATE ${CAIRN_WARNINGS})
	add_executable(wf_test_worker
		${CMAKE_CURRENT_SOURCE_DIR}/wf_test_worker.c)
	target_link_libraries(wf_test_worker PRIVATE wf_flows)
	target_compile_options(wf_test_worker PRIVATE ${CAIRN_WARNINGS})

	add_executable(wf_e2e_test ${CMAKE_CURRENT_SOURCE_DIR}/wf_e2e_test.c
		${CMAKE_CURRENT_SOURCE_DIR}/wf_fixture.c)
	target_link_libraries(wf_e2e_test PRIVATE harness wf_flows
		Threads::Threads)
	add_executable(wf_rpc_test ${CMAKE_CURRENT_SOURCE_DIR}/wf_rpc_test.c)
	target_link_libraries(wf_rpc_test PRIVATE harness)
	foreach(t wf_e2e_test wf_rpc_test)
		target_compile_options(${t} PRIVATE ${CAIRN_WARNINGS})
		add_test(NAME ${t} COMMAND ${t})
		set_tests_properties(${t} PROPERTIES TIMEOUT 300 ENVIRONMENT
			"CAIRND=$<TARGET_FILE:cairnd>;WF_TEST_WORKER=$<TARGET_FILE:wf_test_worker>")
	endforeach()

	# The cairn workflow commands against a real cairnd, a workflow
	# worker and `cairn work` as the activities' task workers.
	add_test(NAME wf_cli_test
		COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/wf_cli_test.sh
			$<TARGET_FILE:cairnd> $<TARGET_FILE:cairn>
			$<TARGET_FILE:wf_test_worker>)
	set_tests_properties(wf_cli_test PROPERTIES TIMEOUT 180)

	# The C example, as its README runs it.
	add_test(NAME wf_example_test
		COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/wf_example_test.sh
			$<TARGET_FILE:cairnd> $<TARGET_FILE:order_workflow>)
	set_tests_properties(wf_example_test PROPERTIES TIMEOUT 120)
endif()
