#include "mpi_world.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
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

/// Binds this rank to GPU local_rank % devices by narrowing CUDA_VISIBLE_DEVICES (to one entry of
/// the list when one is set, else to one of the /dev/nvidiaN devices), before anything starts
/// CUDA: ranks on a machine then use different GPUs. No GPU: nothing changes.
void bind_gpu(int local_rank) {
  std::vector<std::string> devices;
  if (const char* v = std::getenv("CUDA_VISIBLE_DEVICES"); v && *v) {
    std::string s = v;
    for (size_t start = 0; start <= s.size();) {
      const size_t comma = std::min(s.find(',', start), s.size());
      if (comma > start) devices.push_back(s.substr(start, comma - start));
      start = comma + 1;
    }
  } else {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/dev", ec)) {
      const std::string name = e.path().filename().string();
      if (name.size() > 6 && name.rfind("nvidia", 0) == 0 &&
          name.find_first_not_of("0123456789", 6) == std::string::npos)
        devices.push_back(name.substr(6));
    }
    std::sort(devices.begin(), devices.end());
  }
  if (devices.size() < 2) return;
  setenv("CUDA_VISIBLE_DEVICES", devices[static_cast<size_t>(local_rank) % devices.size()].c_str(),
         1);
}

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
    bind_gpu(env_int("OMPI_COMM_WORLD_LOCAL_RANK"));
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
