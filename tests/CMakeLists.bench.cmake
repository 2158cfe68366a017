# cairn-bench (docs/BENCHMARKS.md): built and installed with the rest, and
# run briefly by a smoke test that checks its JSON, never its timings.
# Included from tests/CMakeLists.txt.
add_executable(cairn-bench
	${CMAKE_CURRENT_SOURCE_DIR}/bench/fsync.c
	${CMAKE_CURRENT_SOURCE_DIR}/bench/hist.c
	${CMAKE_CURRENT_SOURCE_DIR}/bench/main.c
	${CMAKE_CURRENT_SOURCE_DIR}/bench/metrics.c
	${CMAKE_CURRENT_SOURCE_DIR}/bench/preload.c
	${CMAKE_CURRENT_SOURCE_DIR}/bench/procio.c
	${CMAKE_CURRENT_SOURCE_DIR}/bench/report.c
	${CMAKE_CURRENT_SOURCE_DIR}/bench/run.c
	${CMAKE_CURRENT_SOURCE_DIR}/bench/spawn.c
	${CMAKE_CURRENT_SOURCE_DIR}/bench/wf_bench.c
	${CMAKE_CURRENT_SOURCE_DIR}/bench/workloads.c)
target_compile_options(cairn-bench PRIVATE ${CAIRN_WARNINGS})
target_link_libraries(cairn-bench PRIVATE cairn_static nng::nng
	PkgConfig::PROTOBUF_C Threads::Threads)
install(TARGETS cairn-bench RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# The fsync counter that cairn-bench preloads into the cairnd it starts
# (bench/fsync_count.c). Not in a sanitizer build: the sanitizer's runtime
# must be the first library a program loads, and it intercepts fsync
# itself; there the bench reports fsyncs as not counted.
if(NOT CAIRN_SANITIZE)
	add_library(cairn-fsync-count MODULE
		${CMAKE_CURRENT_SOURCE_DIR}/bench/fsync_count.c)
	target_compile_options(cairn-fsync-count PRIVATE ${CAIRN_WARNINGS})
	target_link_libraries(cairn-fsync-count PRIVATE ${CMAKE_DL_LIBS})
	install(TARGETS cairn-fsync-count
		LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/cairn)
	target_compile_definitions(cairn-bench PRIVATE
		CAIRN_FSYNC_LIB_BUILD="$<TARGET_FILE:cairn-fsync-count>"
		CAIRN_FSYNC_LIB_INSTALL="${CMAKE_INSTALL_FULL_LIBDIR}/cairn/$<TARGET_FILE_NAME:cairn-fsync-count>")
	add_dependencies(cairn-bench cairn-fsync-count)
	# --pages: the pages a started cairnd's commits write, by table and
	# index, with store-bench's counting VFS (bench/pages_preload.c).
	add_library(cairn-pages MODULE
		${CMAKE_CURRENT_SOURCE_DIR}/bench/pages_preload.c
		${CMAKE_CURRENT_SOURCE_DIR}/bench/store_pages.c)
	target_compile_options(cairn-pages PRIVATE ${CAIRN_WARNINGS})
	target_link_libraries(cairn-pages PRIVATE PkgConfig::SQLITE3)
	install(TARGETS cairn-pages
		LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/cairn)
	target_compile_definitions(cairn-bench PRIVATE
		CAIRN_PAGES_LIB_BUILD="$<TARGET_FILE:cairn-pages>"
		CAIRN_PAGES_LIB_INSTALL="${CMAKE_INSTALL_FULL_LIBDIR}/cairn/$<TARGET_FILE_NAME:cairn-pages>")
	add_dependencies(cairn-bench cairn-pages)
endif()

if(TARGET cairnd)
	add_test(NAME bench_smoke
		COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/bench/smoke_test.sh
			$<TARGET_FILE:cairn-bench> $<TARGET_FILE:cairnd>)
	set_tests_properties(bench_smoke PROPERTIES TIMEOUT 120)
endif()
# The same through a cairnd on PostgreSQL (CMakeLists.postgres.cmake):
# the batch rpcs send their rows gathered (store/postgres/gather.c).
if(TARGET cairnd AND COMMAND cairn_pg_test)
	cairn_pg_test(bench_smoke_postgres bash
		${CMAKE_CURRENT_SOURCE_DIR}/bench/smoke_test.sh
		$<TARGET_FILE:cairn-bench> $<TARGET_FILE:cairnd> on-test-store)
endif()

# Cairn beside beanstalkd, Redis, BullMQ, graphile-worker and a pgbench
# queue (scripts/bench-peers.sh), a second per run: the script, its
# servers and its npm packages (installed from the lockfile into the
# build) work, and the table has every row.
if(TARGET cairnd)
	add_test(NAME bench_peers_quick
		COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/bench/peers_test.sh
			${PROJECT_SOURCE_DIR} ${CMAKE_BINARY_DIR})
	set_tests_properties(bench_peers_quick PROPERTIES TIMEOUT 300)
endif()

# What a task costs as its payload grows (scripts/bench-payloads.sh), half
# a second per run: every run works and the table of targets is whole.
if(TARGET cairnd)
	add_test(NAME bench_payloads_quick
		COMMAND bash ${PROJECT_SOURCE_DIR}/scripts/bench-payloads.sh
			${CMAKE_BINARY_DIR} --quick)
	set_tests_properties(bench_payloads_quick PROPERTIES TIMEOUT 300
		PASS_REGULAR_EXPRESSION "batch lifecycles/s \\(64 clients")
endif()

# store-bench: the storage work of a lifecycle in one process (no network),
# what bounds the engine thread; a smoke test checks that it runs.
add_executable(store-bench ${CMAKE_CURRENT_SOURCE_DIR}/bench/store_bench.c
	${CMAKE_CURRENT_SOURCE_DIR}/bench/store_pages.c
	${CMAKE_CURRENT_SOURCE_DIR}/bench/hist.c)
# SQLite and libpq directly too: store_pages.c counts what they write.
target_link_libraries(store-bench PRIVATE cairn_server PkgConfig::SQLITE3)
# bench.h (for its histograms) also declares the client's side, which
# names types of cairn.h: the header only, not the library.
target_include_directories(store-bench PRIVATE ${PROJECT_SOURCE_DIR}/client)
target_compile_options(store-bench PRIVATE ${CAIRN_WARNINGS})
add_test(NAME store_bench_smoke
	COMMAND store-bench --batch 10 --rounds 5)
set_tests_properties(store_bench_smoke PROPERTIES
	PASS_REGULAR_EXPRESSION "store-bench: 50 lifecycles in" TIMEOUT 60)
# What a lifecycle writes, as store-bench counts it, on both stores.
add_test(NAME store_pages_test
	COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/bench/store_pages_test.sh
		$<TARGET_FILE:store-bench>)
set_tests_properties(store_pages_test PROPERTIES TIMEOUT 120)
if(COMMAND cairn_pg_test)
	cairn_pg_test(store_pages_test_postgres bash
		${CMAKE_CURRENT_SOURCE_DIR}/bench/store_pages_test.sh
		$<TARGET_FILE:store-bench> on-test-store)
endif()

# The statements of the request path use their indexes (no scans).
add_executable(plan_test ${CMAKE_CURRENT_SOURCE_DIR}/bench/plan_test.c)
target_link_libraries(plan_test PRIVATE cairn_server PkgConfig::CMOCKA)
target_compile_options(plan_test PRIVATE ${CAIRN_WARNINGS})
add_test(NAME plan_test COMMAND plan_test)

# The rpcs that do more per request, end to end.
if(TARGET cairnd)
	add_executable(batch_test ${CMAKE_CURRENT_SOURCE_DIR}/bench/batch_test.c)
	target_link_libraries(batch_test PRIVATE harness)
	target_include_directories(batch_test PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
	target_compile_options(batch_test PRIVATE ${CAIRN_WARNINGS})
	add_test(NAME batch_test COMMAND batch_test)
	set_tests_properties(batch_test PROPERTIES
		ENVIRONMENT "CAIRND=$<TARGET_FILE:cairnd>" TIMEOUT 120)
endif()
