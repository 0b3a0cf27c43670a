# Out-of-tree consumer test (ctest sdk_consumer_build):
#   cmake -DATTRIB_BUILD_DIR=... -DCONSUMER_SOURCE=... -DWORK_DIR=... -DATTRIB_BIN=... -P run.cmake
# Installs the attrib build into WORK_DIR/prefix, builds CONSUMER_SOURCE against the installed
# package only, checks that the installed `attrib plugins` lists the consumer's plugin and runs the
# installed conformance suite (attrib_conformance) on it.
cmake_minimum_required(VERSION 3.20)
foreach(var ATTRIB_BUILD_DIR CONSUMER_SOURCE WORK_DIR)
  if(NOT ${var})
    message(FATAL_ERROR "run.cmake: -D${var}=... is required")
  endif()
endforeach()

set(prefix "${WORK_DIR}/prefix")
set(build "${WORK_DIR}/build")
file(REMOVE_RECURSE "${prefix}" "${build}")
file(MAKE_DIRECTORY "${WORK_DIR}")

function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "sdk consumer: ${what} failed (exit ${rc}):\n${out}\n${err}")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
  set(step_error "${err}" PARENT_SCOPE)
endfunction()

run_step("install" "${CMAKE_COMMAND}" --install "${ATTRIB_BUILD_DIR}" --prefix "${prefix}")

set(generator_args)
find_program(NINJA_PROGRAM ninja)
if(NINJA_PROGRAM)
  set(generator_args -G Ninja)
endif()
run_step("configure" "${CMAKE_COMMAND}" -S "${CONSUMER_SOURCE}" -B "${build}" ${generator_args}
         -DCMAKE_BUILD_TYPE=Release "-DCMAKE_PREFIX_PATH=${prefix}")
run_step("build" "${CMAKE_COMMAND}" --build "${build}")

if(NOT EXISTS "${build}/attrib_consumer_method.so")
  message(FATAL_ERROR "sdk consumer: ${build}/attrib_consumer_method.so was not built")
endif()

# The installed binary (not the build tree's ATTRIB_BIN) proves the install is self-contained.
run_step("attrib plugins" "${prefix}/bin/attrib" plugins --json --plugin-dir "${build}")
if(NOT step_output MATCHES "consumer_gradient_sign")
  message(FATAL_ERROR "sdk consumer: `attrib plugins --json --plugin-dir ${build}` does not list "
                      "consumer_gradient_sign. stdout:\n${step_output}\nstderr:\n${step_error}")
endif()
# The conformance suite, as a plugin author runs it: every method plugin of the folder must pass.
run_step("attrib_conformance" "${prefix}/bin/attrib_conformance" --plugin-dir "${build}")
if(NOT step_output MATCHES "Conformance\\.[A-Za-z]+/consumer_gradient_sign")
  message(FATAL_ERROR "sdk consumer: attrib_conformance --plugin-dir ${build} did not test "
                      "consumer_gradient_sign. stdout:\n${step_output}\nstderr:\n${step_error}")
endif()
message(STATUS "sdk consumer: consumer_gradient_sign built against the installed SDK, loaded and "
               "passed attrib_conformance")
