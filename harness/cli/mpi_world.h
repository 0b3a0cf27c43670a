#pragma once
// `mpirun -n N attrib run SUITE --out DIR`: each rank runs shard rank+1 of N, then rank 0 merges.
// MPI is an optional build component (ATTRIB_WITH_MPI, on when CMake finds MPI); without it, a
// launch under mpirun is refused with a message instead of N ranks each running the whole suite.
#include <vector>

namespace attrib::cli {

struct MpiWorld {
  int rank = 0, size = 1;
  int local_size = 1;  ///< ranks on this machine (they share its cores)
  bool active() const { return size > 1; }
};

/// The MPI world: MPI_Init (once; MPI_Finalize at exit) when launched by mpirun with more than one
/// rank; otherwise a single rank. Throws UsageError under mpirun when built without MPI.
const MpiWorld& mpi_world();

/// Every rank's exit code, on rank 0 (empty elsewhere); a barrier for all ranks.
std::vector<int> mpi_gather_codes(int code);

}  // namespace attrib::cli
