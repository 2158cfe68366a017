# The dashboard in a real browser (tests/browser/): headless Chromium from
# Debian (scripts/setup.sh) driven by playwright-core, installed from its
# lockfile with `npm ci` by the test itself. Included from
# tests/CMakeLists.txt; it runs in every build, the sanitizers' included,
# against that build's cairnd.
# The parts that need no server: activity rings, sessions, checks.
add_executable(dashboard_test dashboard_test.c)
target_link_libraries(dashboard_test PRIVATE cairn_server PkgConfig::CMOCKA)
target_compile_options(dashboard_test PRIVATE ${CAIRN_WARNINGS})
add_test(NAME dashboard_test COMMAND dashboard_test)

find_program(CAIRN_NODE node)
find_program(CAIRN_NPM npm)
if(NOT CAIRN_NODE OR NOT CAIRN_NPM)
	message(WARNING "browser_test: node and npm are needed (scripts/setup.sh)")
endif()
add_test(NAME browser_test
	COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/browser/run.sh
		${CMAKE_CURRENT_BINARY_DIR}/browser
		$<TARGET_FILE:cairnd> $<TARGET_FILE:cairn>
		$<TARGET_FILE:order_workflow>)
set_tests_properties(browser_test PROPERTIES TIMEOUT 300)
