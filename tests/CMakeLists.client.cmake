# Tests of the client side: libcairn and the cairn CLI. Included from
# tests/CMakeLists.txt.
if(NOT TARGET PkgConfig::CMOCKA)
	pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)
endif()

# Unit tests that need no server, the JSON writer of the wire library
# (cairn_wire) among them.
add_executable(client_test
	${CMAKE_CURRENT_SOURCE_DIR}/client_test.c)
# The fake server in it speaks the envelope, so it sees the generated
# protobuf code (inside libcairn.a) and nng.
target_include_directories(client_test PRIVATE
	${PROJECT_SOURCE_DIR}/client/cli
	$<TARGET_PROPERTY:cairn_proto,INTERFACE_INCLUDE_DIRECTORIES>)
target_compile_options(client_test PRIVATE ${CAIRN_WARNINGS})
target_link_libraries(client_test PRIVATE cairn_static cairn_wire nng::nng
	PkgConfig::PROTOBUF_C PkgConfig::CMOCKA Threads::Threads m)
add_dependencies(client_test cairn_proto)
add_test(NAME client_test COMMAND client_test)
set_tests_properties(client_test PROPERTIES TIMEOUT 60)

# End to end: the cairn CLI against a real cairnd on a free loopback port.
if(TARGET cairnd)
	add_test(NAME cli_test
		COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli_test.sh
			$<TARGET_FILE:cairnd> $<TARGET_FILE:cairn>)
	set_tests_properties(cli_test PROPERTIES TIMEOUT 180)
endif()
