#include "mpi_world.h"

#include <cstdlib>
#include <string>

#include "exit_codes.h"

#ifdef ATTRIB_WITH_MPI
#include <mpi.h>
#endif

namespace attrib::cli {

namespace {

int env_int(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : 0;
}

/// Ranks the launcher says there are (OpenMPI, or PMI as Slurm's srun and MPICH set it).
int launched_size() { return std::max(env_int("OMPI_COMM_WORLD_SIZE"), env_int("PMI_SIZE")); }

#ifdef ATTRIB_WITH_MPI
void finalize() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}
#endif

}  // namespace

const MpiWorld& mpi_world() {
  static const MpiWorld world = [] {
    MpiWorld w;
    if (launched_size() <= 1) return w;
#ifdef ATTRIB_WITH_MPI
    MPI_Init(nullptr, nullptr);
    std::atexit(finalize);
    MPI_Comm_rank(MPI_COMM_WORLD, &w.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &w.size);
    w.local_size = std::max(1, env_int("OMPI_COMM_WORLD_LOCAL_SIZE"));
    return w;
#else
    throw UsageError("launched by mpirun with " + std::to_string(launched_size()) +
                     " ranks, but this attrib was built without MPI (ATTRIB_WITH_MPI=OFF); "
                     "build it with MPI, or run the shards with --shard K/N");
#endif
  }();
  return world;
}

std::vector<int> mpi_gather_codes(int code) {
  std::vector<int> codes;
#ifdef ATTRIB_WITH_MPI
  const MpiWorld& w = mpi_world();
  if (w.rank == 0) codes.resize(static_cast<size_t>(w.size));
  MPI_Gather(&code, 1, MPI_INT, codes.data(), 1, MPI_INT, 0, MPI_COMM_WORLD);
#else
  codes.push_back(code);
#endif
  return codes;
}

}  // namespace attrib::cli
