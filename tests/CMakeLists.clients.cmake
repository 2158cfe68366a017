# The clients generated from the proto (bindings/typescript, bindings/go)
# and the shared test vectors that keep them in step with the C code.
# Included from tests/CMakeLists.txt.

# The vectors through protobuf-c, as libcairn and cairnd see them.
add_executable(vectors_test vectors_test.c)
target_link_libraries(vectors_test PRIVATE cairn_proto PkgConfig::CMOCKA)
target_compile_options(vectors_test PRIVATE ${CAIRN_WARNINGS})
add_test(NAME vectors_test
	COMMAND vectors_test ${PROJECT_SOURCE_DIR}/proto/testdata)

# The vectors follow cairn.proto: regenerating them changes nothing.
find_program(CAIRN_PROTOC protoc)
add_test(NAME vectors_current
	COMMAND ${CAIRN_PYTHON} ${PROJECT_SOURCE_DIR}/proto/testdata/generate.py
		--check --protoc ${CAIRN_PROTOC})

# The TypeScript and Go clients and the story across languages. They talk
# to cairnd over the wire, so a sanitizer build adds nothing to them but
# time: they run in the plain build only. They share the package folders
# in the source tree, hence one after another (RESOURCE_LOCK).
if(NOT CAIRN_SANITIZE)
	set(cairn_clients_env
		"CAIRND=$<TARGET_FILE:cairnd>"
		"WF_TEST_WORKER=$<TARGET_FILE:wf_test_worker>"
		"CAIRN_LIBRARY=$<TARGET_FILE:cairn_shared>"
		"PYTHONPATH=${PROJECT_SOURCE_DIR}/bindings/python"
		"PYTHONDONTWRITEBYTECODE=1")
	add_test(NAME ts_test
		COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/clients/ts_test.sh)
	add_test(NAME go_test
		COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/clients/go_test.sh)
	add_test(NAME clients_story_test
		COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/clients/story_test.sh)
	set_tests_properties(ts_test go_test clients_story_test PROPERTIES
		ENVIRONMENT "${cairn_clients_env}"
		RESOURCE_LOCK cairn_client_packages
		TIMEOUT 300)
	set_tests_properties(ts_test go_test PROPERTIES
		FIXTURES_SETUP cairn_client_builds)
	set_tests_properties(clients_story_test PROPERTIES
		FIXTURES_REQUIRED cairn_client_builds)
endif()
