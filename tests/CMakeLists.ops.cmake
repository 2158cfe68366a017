# Tests of operating Cairn (docs/OPERATIONS.md): metrics and health over
# HTTP, backups, the worker helper, `cairn work`, the config file and logs,
# the steps of the Docker image, and the installed library. Included from
# tests/CMakeLists.txt.
add_executable(ops_test ops_test.c ops_http.c)
add_executable(worker_test worker_test.c)
foreach(t ops_test worker_test)
	target_link_libraries(${t} PRIVATE harness PkgConfig::SQLITE3
		Threads::Threads)
	target_compile_options(${t} PRIVATE ${CAIRN_WARNINGS})
	add_test(NAME ${t} COMMAND ${t})
	set_tests_properties(${t} PROPERTIES
		ENVIRONMENT "CAIRND=$<TARGET_FILE:cairnd>" TIMEOUT 120)
endforeach()

# The CLI side, through the real binaries: `cairn work`, `cairn backup`,
# --config and --check-config, logs, and promtool on a scrape.
add_test(NAME ops_cli_test
	COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/ops_cli_test.sh
		$<TARGET_FILE:cairnd> $<TARGET_FILE:cairn>)
set_tests_properties(ops_cli_test PROPERTIES TIMEOUT 180)

# cairnd --read-only on a copy: reads served, writes refused (rpcs and
# the dashboard), no timers, the file's bytes unchanged; beside a live
# cairnd too.
add_test(NAME readonly_test
	COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/readonly_test.sh
		$<TARGET_FILE:cairnd> $<TARGET_FILE:cairn>)
set_tests_properties(readonly_test PROPERTIES TIMEOUT 120)

# What the Docker image runs, run here (scripts/docker-build-steps.sh):
# a build of its own from the sources, then the start and health check.
add_test(NAME docker_steps_test
	COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/docker_steps_test.sh
		${PROJECT_SOURCE_DIR})
set_tests_properties(docker_steps_test PROPERTIES TIMEOUT 900)

# `cmake --install` of this build into a temporary prefix, and a program
# built against the installed library through pkg-config and CMake.
add_test(NAME install_test
	COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/install_test.sh
		${CMAKE_BINARY_DIR} $<TARGET_FILE:cairnd> "${CAIRN_SANITIZE}")
set_tests_properties(install_test PROPERTIES TIMEOUT 300)
