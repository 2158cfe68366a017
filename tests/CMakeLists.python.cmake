# The Python binding's tests: pytest, with Debian's python3, against a real
# cairnd and through libcairn.so. Included from tests/CMakeLists.txt.
# The C side of the binding's throughput comparison
# (bindings/python/bench/): built here so that it keeps compiling.
add_executable(py_c_throughput
	${PROJECT_SOURCE_DIR}/bindings/python/bench/c_throughput.c)
target_link_libraries(py_c_throughput PRIVATE cairn_shared Threads::Threads)
target_compile_options(py_c_throughput PRIVATE ${CAIRN_WARNINGS})

set(CAIRN_PYTHON "/usr/bin/python3" CACHE FILEPATH
	"Python 3 with pytest, for the Python binding's tests")

set(cairn_py_env
	"CAIRND=$<TARGET_FILE:cairnd>"
	"CAIRN_LIBRARY=$<TARGET_FILE:cairn_shared>"
	"CAIRN_CLI=$<TARGET_FILE:cairn>"
	"PYTHONPATH=${PROJECT_SOURCE_DIR}/bindings/python"
	"PYTHONDONTWRITEBYTECODE=1")
set(cairn_py_ok TRUE)

# A sanitized libcairn can be loaded into an uninstrumented python only
# with the sanitizer's runtime preloaded; Python's own allocations at exit
# are not the library's leaks. ThreadSanitizer does not work that way.
if(CAIRN_SANITIZE MATCHES "thread")
	set(cairn_py_ok FALSE)
elseif(CAIRN_SANITIZE MATCHES "address")
	execute_process(
		COMMAND ${CMAKE_C_COMPILER} -print-file-name=libasan.so
		OUTPUT_VARIABLE cairn_asan_rt
		OUTPUT_STRIP_TRAILING_WHITESPACE)
	if(IS_ABSOLUTE "${cairn_asan_rt}" AND EXISTS "${cairn_asan_rt}")
		list(APPEND cairn_py_env
			"LD_PRELOAD=${cairn_asan_rt}"
			"ASAN_OPTIONS=detect_leaks=0:abort_on_error=1")
	else()
		set(cairn_py_ok FALSE)
	endif()
endif()

if(NOT EXISTS "${CAIRN_PYTHON}")
	message(STATUS "python_test: ${CAIRN_PYTHON} not found, not added")
elseif(NOT cairn_py_ok)
	message(STATUS "python_test: not added under CAIRN_SANITIZE=${CAIRN_SANITIZE}")
else()
	# -p no:cacheprovider keeps pytest from writing into the source tree;
	# pytest's exit status is the test's.
	add_test(NAME python_test
		COMMAND ${CAIRN_PYTHON} -m pytest -q -p no:cacheprovider
			${PROJECT_SOURCE_DIR}/bindings/python/tests
		WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
	set_tests_properties(python_test PROPERTIES
		ENVIRONMENT "${cairn_py_env}"
		TIMEOUT 180)
endif()
