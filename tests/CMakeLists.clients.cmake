# The clients generated from the proto (bindings/typescript, bindings/go)
# and the shared test vectors that keep them in step with the C code.
# Included from tests/CMakeLists.txt.

# The vectors through protobuf-c, as libcairn and cairnd see them.
add_executable(vectors_test vectors_test.c)
target_link_libraries(vectors_test PRIVATE cairn_proto PkgConfig::CMOCKA)
target_compile_options(vectors_test PRIVATE ${CAIRN_WARNINGS})
add_test(NAME vectors_test
	COMMAND vectors_test ${PROJECT_SOURCE_DIR}/proto/testdata)
