# Litestream with cairnd (docs/RELIABILITY.md, "A lost disk"): Litestream
# and an S3-compatible server are installed from PyPI into a virtualenv
# (pinned with hashes: tests/durability/requirements-litestream.txt), then
# lost_disk replicates a loaded cairnd, destroys its disk, restores and
# checks. Included from tests/CMakeLists.txt; needs the durability tests'
# dur_util library and the operations tests' HTTP reader.
set(DUR ${CMAKE_CURRENT_SOURCE_DIR}/durability)
add_executable(lost_disk ${DUR}/lost_disk.c ${DUR}/lost_disk_check.c
	${DUR}/lost_disk_report.c
	${DUR}/crash_load.c ${DUR}/crash_check.c
	${CMAKE_CURRENT_SOURCE_DIR}/ops_http.c)
target_link_libraries(lost_disk PRIVATE dur_util)
target_compile_options(lost_disk PRIVATE ${CAIRN_WARNINGS})
# The checker must catch what it looks for: stores made by hand.
add_executable(lost_disk_check_test ${DUR}/lost_disk_check_test.c
	${DUR}/lost_disk_check.c ${DUR}/crash_check.c)
target_link_libraries(lost_disk_check_test PRIVATE dur_util)
target_compile_options(lost_disk_check_test PRIVATE ${CAIRN_WARNINGS})
add_test(NAME lost_disk_check_test COMMAND lost_disk_check_test)

# --checkpoints: bad values refused; external never checkpoints.
if(TARGET cairn-bench)
	add_test(NAME checkpoints_test
		COMMAND bash ${DUR}/checkpoints_test.sh $<TARGET_FILE:cairnd>
			$<TARGET_FILE:cairn-bench>)
	set_tests_properties(checkpoints_test PROPERTIES TIMEOUT 120)
endif()

# Shared by the build folders (ci, asan) of one machine.
set(CAIRN_LITESTREAM_VENV "$ENV{HOME}/.cache/cairn/litestream-venv"
	CACHE PATH "Virtualenv for Litestream and the S3 test server")
set(CAIRN_VENV_PYTHON "/usr/bin/python3" CACHE FILEPATH
	"Python 3 with venv that makes the virtualenv")

# A sanitized cairnd gains nothing here that the crash tests do not
# check, and the test costs half a minute: the plain suite runs it.
if(CAIRN_SANITIZE)
	message(STATUS "litestream_lost_disk: not added under CAIRN_SANITIZE")
	return()
endif()
add_test(NAME litestream_install
	COMMAND bash ${DUR}/litestream_env.sh ${CAIRN_LITESTREAM_VENV}
		${CAIRN_VENV_PYTHON})
set_tests_properties(litestream_install PROPERTIES
	FIXTURES_SETUP litestream TIMEOUT 600)
# Two rounds of a lost disk with Litestream's defaults: what must always
# hold, never a timing. The by-hand runs take --rounds and the intervals.
add_test(NAME litestream_lost_disk
	COMMAND bash ${DUR}/litestream_test.sh ${CAIRN_LITESTREAM_VENV}
		$<TARGET_FILE:lost_disk> --rounds 2)
set_tests_properties(litestream_lost_disk PROPERTIES
	FIXTURES_REQUIRED litestream TIMEOUT 300
	ENVIRONMENT "CAIRND=$<TARGET_FILE:cairnd>")
