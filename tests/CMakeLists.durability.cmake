# Durability and hostile-input tests (docs/RELIABILITY.md). Included from
# tests/CMakeLists.txt. Every test here is bounded in time; the longer runs
# are the same programs with larger numbers, by hand (see the doc).
set(DUR ${CMAKE_CURRENT_SOURCE_DIR}/durability)

# A cairnd child process with more control than harness.c, and requests
# made by hand.
add_library(dur_util STATIC ${DUR}/dur_util.c ${DUR}/raw.c
	${DUR}/crash_fault.c)
target_include_directories(dur_util PUBLIC ${DUR}
	${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(dur_util PUBLIC harness cairn_proto nng::nng
	PkgConfig::SQLITE3 PkgConfig::PROTOBUF_C Threads::Threads)
target_compile_options(dur_util PRIVATE ${CAIRN_WARNINGS})

# cairnd-faultfs: the real server (server/main.c and the server library)
# with the test-only fault injection of faultfs.h, linked in by wrapping
# two functions; production code has none of it.
get_target_property(CAIRND_SOURCES cairnd SOURCES)
list(TRANSFORM CAIRND_SOURCES PREPEND ${PROJECT_SOURCE_DIR}/server/
	REGEX "^[^/]")
add_executable(cairnd-faultfs ${CAIRND_SOURCES}
	${DUR}/faultfs.c ${DUR}/faultfs_ctl.c)
target_include_directories(cairnd-faultfs PRIVATE ${DUR})
get_target_property(CAIRND_LIBS cairnd LINK_LIBRARIES)
target_link_libraries(cairnd-faultfs PRIVATE ${CAIRND_LIBS})
target_compile_options(cairnd-faultfs PRIVATE ${CAIRN_WARNINGS})
target_link_options(cairnd-faultfs PRIVATE
	-Wl,--wrap=sqlite3_step -Wl,--wrap=engine_start)

set(DUR_ENV "CAIRND=$<TARGET_FILE:cairnd>"
	"CAIRN_CLI=$<TARGET_FILE:cairn>"
	"CAIRND_FAULTFS=$<TARGET_FILE:cairnd-faultfs>"
	"GEN_CERTS=${DUR}/gen_certs.sh")

foreach(t auth_tls_test limits_test resend_test diskfault_test
		pause_clock_test)
	add_executable(${t} ${DUR}/${t}.c)
	target_link_libraries(${t} PRIVATE dur_util)
	target_compile_options(${t} PRIVATE ${CAIRN_WARNINGS})
	add_test(NAME ${t} COMMAND ${t})
	set_tests_properties(${t} PROPERTIES ENVIRONMENT "${DUR_ENV}"
		TIMEOUT 300)
endforeach()

# The crash harness and its power-loss rounds, with negative controls that
# must see acknowledged work lost. The early-ack control runs 8 rounds:
# with 4 it failed once in about 25 runs (not seen again in 20 reruns, so
# its cause is not known), and more rounds give a kill more chances to
# land on acknowledged work. Larger runs by hand: CAIRN_CRASH_ROUNDS.
add_executable(crash_harness ${DUR}/crash_harness.c ${DUR}/crash_load.c
	${DUR}/crash_check.c)
target_link_libraries(crash_harness PRIVATE dur_util)
if(TARGET PkgConfig::LIBPQ)
	# Also on PostgreSQL: tests/CMakeLists.postgres.cmake runs it.
	target_sources(crash_harness PRIVATE ${DUR}/crash_check_pg.c)
	target_compile_definitions(crash_harness PRIVATE CRASH_WITH_POSTGRES)
	target_link_libraries(crash_harness PRIVATE PkgConfig::LIBPQ)
endif()
if(COMMAND cairn_pg_test)
	cairn_pg_test(crash_kill_postgres $<TARGET_FILE:crash_harness>
		--fault kill)
endif()
target_compile_options(crash_harness PRIVATE ${CAIRN_WARNINGS})
# The checker must catch what it looks for: histories made by hand.
add_executable(crash_check_test ${DUR}/crash_check_test.c
	${DUR}/crash_check.c)
target_link_libraries(crash_check_test PRIVATE dur_util)
target_compile_options(crash_check_test PRIVATE ${CAIRN_WARNINGS})
add_test(NAME crash_check_test COMMAND crash_check_test)
foreach(run
		"crash_kill|--fault;kill"
		"crash_kill_early_ack_control|--fault;kill;--early-ack;--expect-loss;--rounds;8"
		"power_cut_full|--fault;cut"
		"power_cut_normal_control|--fault;cut;--durability;normal-unsafe;--expect-loss")
	string(REPLACE "|" ";" parts "${run}")
	list(POP_FRONT parts name)
	add_test(NAME ${name} COMMAND crash_harness ${parts})
	set_tests_properties(${name} PROPERTIES ENVIRONMENT "${DUR_ENV}"
		TIMEOUT 300)
endforeach()

# The crash proofs of durable workflows (docs/RELIABILITY.md): C workflow
# workers and task workers in processes killed at random, cairnd killed or
# its power cut, and a checker over what the clients saw; the negative
# control answers before COMMIT and must be caught. A few rounds here;
# longer runs by hand with CAIRN_WF_CRASH_ROUNDS.
add_executable(wf_crash_worker ${DUR}/wf_crash_worker.c
	${DUR}/wf_crash_flow.c ${DUR}/wf_scale_flow.c)
add_executable(wf_crash_harness ${DUR}/wf_crash_harness.c
	${DUR}/wf_crash_load.c ${DUR}/wf_crash_check.c ${DUR}/wf_crash_lines.c
	${DUR}/wf_crash_flow.c)
foreach(t wf_crash_worker wf_crash_harness)
	target_link_libraries(${t} PRIVATE dur_util)
	target_compile_options(${t} PRIVATE ${CAIRN_WARNINGS})
endforeach()
set(WF_DUR_ENV ${DUR_ENV} "WF_CRASH_WORKER=$<TARGET_FILE:wf_crash_worker>")
foreach(run
		"wf_crash_kill|--fault;kill"
		"wf_power_cut|--fault;cut"
		"wf_crash_early_ack_control|--fault;kill;--early-ack;--expect-loss;--rounds;8;--round-ms;900;--drain-ms;10000")
	string(REPLACE "|" ";" parts "${run}")
	list(POP_FRONT parts name)
	add_test(NAME ${name} COMMAND wf_crash_harness ${parts})
	set_tests_properties(${name} PROPERTIES ENVIRONMENT "${WF_DUR_ENV}"
		TIMEOUT 300)
endforeach()
# Long workflows complete (1,000 steps with a worker killed half way,
# 200 activities at once), and what their replay costs.
add_executable(wf_scale_test ${DUR}/wf_scale_test.c ${DUR}/wf_scale_flow.c
	${DUR}/wf_crash_flow.c ${CMAKE_CURRENT_SOURCE_DIR}/ops_http.c)
target_link_libraries(wf_scale_test PRIVATE dur_util)
target_compile_options(wf_scale_test PRIVATE ${CAIRN_WARNINGS})
add_test(NAME wf_scale_test COMMAND wf_scale_test)
set_tests_properties(wf_scale_test PROPERTIES ENVIRONMENT "${WF_DUR_ENV}"
	TIMEOUT 300)
if(COMMAND cairn_pg_test)
	cairn_pg_test(wf_crash_kill_postgres $<TARGET_FILE:wf_crash_harness>
		--fault kill)
	set_property(TEST wf_crash_kill_postgres APPEND PROPERTY ENVIRONMENT
		"WF_CRASH_WORKER=$<TARGET_FILE:wf_crash_worker>")
endif()

# Fuzzing of the whole request path (tests/fuzz). fuzz_replay runs the
# seeds and the regressions in every suite; the libFuzzer run needs clang
# and builds apart (run_fuzz.sh), once, in the plain suite.
set(FUZZ ${CMAKE_CURRENT_SOURCE_DIR}/fuzz)
option(CAIRN_FUZZ "Build the libFuzzer target (with clang)" OFF)
foreach(t fuzz_replay fuzz_seeds)
	add_executable(${t} ${FUZZ}/fuzz_rpc.c ${FUZZ}/fuzz_main.c)
	target_link_libraries(${t} PRIVATE cairn_server)
	target_compile_options(${t} PRIVATE ${CAIRN_WARNINGS})
endforeach()
add_test(NAME fuzz_replay COMMAND sh -c
	"'$<TARGET_FILE:fuzz_replay>' --seeds '${CMAKE_CURRENT_BINARY_DIR}/fuzz-seed-corpus' && '$<TARGET_FILE:fuzz_replay>' '${CMAKE_CURRENT_BINARY_DIR}/fuzz-seed-corpus' '${FUZZ}/regressions'")
set_tests_properties(fuzz_replay PROPERTIES TIMEOUT 120)
if(CAIRN_FUZZ)
	add_executable(fuzz_rpc ${FUZZ}/fuzz_rpc.c)
	target_link_libraries(fuzz_rpc PRIVATE cairn_server)
	target_link_options(fuzz_rpc PRIVATE -fsanitize=fuzzer)
elseif(NOT CAIRN_SANITIZE)
	set(CAIRN_FUZZ_SECONDS 30 CACHE STRING "Length of the fuzz run in ctest")
	add_test(NAME fuzz_short COMMAND bash ${FUZZ}/run_fuzz.sh
		${PROJECT_SOURCE_DIR} ${CMAKE_BINARY_DIR}/fuzz
		${CAIRN_FUZZ_SECONDS})
	set_tests_properties(fuzz_short PROPERTIES SKIP_RETURN_CODE 77
		TIMEOUT 900)
endif()
