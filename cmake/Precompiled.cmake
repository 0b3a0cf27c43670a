# One precompiled header of the heavy third-party headers, built once and reused by every target
# with compatible flags (shared code, plugins: -fPIC; executables get their own: -fPIE).
set(ATTRIB_PCH_HEADERS <torch/script.h> <ATen/ATen.h> <nlohmann/json.hpp> <vector> <string>
    <map> <memory> <functional>)
attrib_torch_has_cuda(ATTRIB_WITH_CUDA)
add_compile_definitions(ATTRIB_WITH_CUDA=${ATTRIB_WITH_CUDA})

foreach(kind lib exe)
  file(WRITE "${PROJECT_BINARY_DIR}/pch/attrib_pch_${kind}.cpp" "// PCH anchor\n")
endforeach()
add_library(attrib_pch_lib OBJECT "${PROJECT_BINARY_DIR}/pch/attrib_pch_lib.cpp")
add_library(attrib_pch_exe OBJECT "${PROJECT_BINARY_DIR}/pch/attrib_pch_exe.cpp")
set_target_properties(attrib_pch_exe PROPERTIES POSITION_INDEPENDENT_CODE OFF)
foreach(t attrib_pch_lib attrib_pch_exe)
  target_link_libraries(${t} PRIVATE torch nlohmann_json::nlohmann_json)
  target_precompile_headers(${t} PRIVATE ${ATTRIB_PCH_HEADERS})
endforeach()

# attrib_use_pch(<target> lib|exe)
function(attrib_use_pch target kind)
  if(NOT ATTRIB_NO_PCH)
    target_precompile_headers(${target} REUSE_FROM attrib_pch_${kind})
  endif()
  if(kind STREQUAL "exe")
    # Same flags as the PCH (Debian's gcc makes PIE by default anyway).
    set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE OFF)
  endif()
endfunction()
