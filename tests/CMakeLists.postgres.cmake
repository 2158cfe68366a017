# Tests of the PostgreSQL backend. Included from tests/CMakeLists.txt.
#
# A throwaway cluster (scripts/pg-test-cluster.sh) is a ctest fixture: a
# setup test starts it under the build directory on a free loopback port
# and writes its URI to pgcluster/uri, a cleanup test stops it. The tests
# run through `pg-test-cluster.sh exec DIR ...`, which sets
# CAIRN_TEST_STORE from that file: the port is only known at run time.
# They share one RESOURCE_LOCK because pg_e2e_test stops and restarts the
# database under load.
get_target_property(cairn_pg_defs cairn_server INTERFACE_COMPILE_DEFINITIONS)
if(NOT "CAIRN_WITH_POSTGRES" IN_LIST cairn_pg_defs)
	return() # built without the backend (see server/CMakeLists.txt)
endif()
# Imported targets are local to a directory: find libpq here too.
pkg_check_modules(LIBPQ REQUIRED IMPORTED_TARGET libpq>=14)

set(CAIRN_PG_SCRIPT ${PROJECT_SOURCE_DIR}/scripts/pg-test-cluster.sh)
set(CAIRN_PG_CLUSTER ${CMAKE_CURRENT_BINARY_DIR}/pgcluster)

add_test(NAME pg_cluster_start
	COMMAND bash ${CAIRN_PG_SCRIPT} start ${CAIRN_PG_CLUSTER})
set_tests_properties(pg_cluster_start PROPERTIES
	FIXTURES_SETUP cairn_pg TIMEOUT 120 RESOURCE_LOCK cairn_pg)
add_test(NAME pg_cluster_stop
	COMMAND bash ${CAIRN_PG_SCRIPT} stop ${CAIRN_PG_CLUSTER})
set_tests_properties(pg_cluster_stop PROPERTIES
	FIXTURES_CLEANUP cairn_pg TIMEOUT 120 RESOURCE_LOCK cairn_pg)

# cairn_pg_test(NAME COMMAND...) runs COMMAND against the cluster.
function(cairn_pg_test name)
	add_test(NAME ${name} COMMAND bash ${CAIRN_PG_SCRIPT} exec
		${CAIRN_PG_CLUSTER} ${ARGN})
	set_tests_properties(${name} PROPERTIES FIXTURES_REQUIRED cairn_pg
		RESOURCE_LOCK cairn_pg TIMEOUT 300
		ENVIRONMENT "CAIRND=$<TARGET_FILE:cairnd>;CAIRN_PG_SCRIPT=${CAIRN_PG_SCRIPT};CAIRN_PG_CLUSTER=${CAIRN_PG_CLUSTER}")
endfunction()

# The storage contract (tasks and workflows), unchanged, on PostgreSQL.
foreach(t store_test lifecycle_test workflow_store_test
		workflow_inspect_test)
	if(TARGET ${t})
		cairn_pg_test(${t}_postgres $<TARGET_FILE:${t}>)
	endif()
endforeach()

# Workflows end to end with two cairnd on one database: the task workers,
# one workflow worker and every other killed worker go through the second
# server, so that runs, leases and wakeups cross between them.
if(TARGET wf_e2e_test)
	cairn_pg_test(wf_e2e_test_postgres $<TARGET_FILE:wf_e2e_test>)
	set_property(TEST wf_e2e_test_postgres APPEND PROPERTY ENVIRONMENT
		"WF_TEST_WORKER=$<TARGET_FILE:wf_test_worker>")
endif()

# Queue limits end to end with two cairnd on one database: the workers
# split between them, so that max_active, pause and the rate limit are
# shown to hold across servers.
cairn_pg_test(queue_limits_test_postgres $<TARGET_FILE:queue_limits_test>)

# Tests of this backend alone, on the storage contract's fixture
# (store_fixture.c), each in NAME.c:
#   pg_store_test     what only this backend has (migration race, SKIP
#                     LOCKED, enqueue() in SQL, notifications, a lost
#                     connection)
#   pg_prefetch_test  the read-ahead of a transaction's rows and request
#                     records
#   pg_gather_test    the gathered writes: many rows in one statement, as
#                     one would have written them
#   pg_plan_test      no statement reads a whole table
foreach(t pg_store_test pg_prefetch_test pg_gather_test pg_plan_test)
	add_executable(${t} ${t}.c)
	target_link_libraries(${t} PRIVATE store_fixture)
	target_compile_options(${t} PRIVATE ${CAIRN_WARNINGS})
	cairn_pg_test(${t} $<TARGET_FILE:${t}>)
endforeach()

# End to end: two cairnd processes on one database, and a database that
# crashes under load.
add_executable(pg_e2e_test pg_e2e_test.c)
target_link_libraries(pg_e2e_test PRIVATE harness PkgConfig::LIBPQ
	Threads::Threads)
target_compile_options(pg_e2e_test PRIVATE ${CAIRN_WARNINGS})
cairn_pg_test(pg_e2e_test $<TARGET_FILE:pg_e2e_test>)

# Leases bound to their connection, on PostgreSQL.
cairn_pg_test(disconnect_test_postgres $<TARGET_FILE:disconnect_test>)
set_property(TEST disconnect_test_postgres APPEND PROPERTY ENVIRONMENT
	"CAIRN_CLI=$<TARGET_FILE:cairn>")

# Cron schedules with two servers on one database, one restarted.
cairn_pg_test(schedule_test_postgres $<TARGET_FILE:schedule_test>)

# cairnd migrate from SQLite to PostgreSQL and back, with leases held and
# workflow runs waiting, which carry on after each move.
if(TARGET cairn AND TARGET wf_test_worker)
	cairn_pg_test(migrate_test bash
		${CMAKE_CURRENT_SOURCE_DIR}/migrate_test.sh
		$<TARGET_FILE:cairnd> $<TARGET_FILE:cairn>
		$<TARGET_FILE:wf_test_worker>)
endif()

# The CLI's end-to-end session, unchanged, on PostgreSQL (a schema of its
# own): cli_test.sh takes its store from CAIRN_TEST_STORE.
if(TARGET cairn)
	cairn_pg_test(cli_test_postgres bash
		${CMAKE_CURRENT_SOURCE_DIR}/cli_test.sh
		$<TARGET_FILE:cairnd> $<TARGET_FILE:cairn>)
	set_property(TEST cli_test_postgres APPEND PROPERTY ENVIRONMENT
		"CAIRN_PG_SCHEMA=cli_test")
	# The same session through PgBouncer in session mode.
	cairn_pg_test(pgbouncer_test bash
		${CMAKE_CURRENT_SOURCE_DIR}/pgbouncer_test.sh
		$<TARGET_FILE:cairnd> $<TARGET_FILE:cairn>)
	# A primary, a synchronous standby and a failover: two clusters of
	# its own, so not on the shared one (the lock keeps them apart).
	add_test(NAME pg_failover_test COMMAND bash
		${CMAKE_CURRENT_SOURCE_DIR}/pg_failover_test.sh
		$<TARGET_FILE:cairnd> $<TARGET_FILE:cairn>)
	set_tests_properties(pg_failover_test PROPERTIES
		RESOURCE_LOCK cairn_pg TIMEOUT 300)
endif()
