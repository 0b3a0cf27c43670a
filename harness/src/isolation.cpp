#include "isolation.h"

#include <ATen/Parallel.h>
#include <ATen/ThreadLocalState.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <thread>

#include "attrib/error.h"

namespace attrib {

using nlohmann::json;

namespace {

struct PluginException : Error {
  using Error::Error;
};

// The child's answer: a CBOR header (status, choices, rows, tensor layouts), then each tensor's
// raw bytes in header order. CBOR keeps NaN in the choices, which JSON text would lose.
void append_tensor(json& layouts, std::string& body, const std::string& name, const at::Tensor& t) {
  if (!t.defined()) {
    layouts.push_back({{"name", name}, {"defined", false}});
    return;
  }
  const at::Tensor c = t.to(at::kCPU).contiguous();
  layouts.push_back({{"name", name},
                     {"defined", true},
                     {"dtype", static_cast<int>(c.scalar_type())},
                     {"shape", c.sizes().vec()}});
  body.append(static_cast<const char*>(c.data_ptr()), c.nbytes());
}

std::string frame(const json& header, const std::string& body) {
  const std::vector<uint8_t> h = json::to_cbor(header);
  const uint64_t n = h.size();
  std::string out(reinterpret_cast<const char*>(&n), sizeof n);
  out.append(reinterpret_cast<const char*>(h.data()), h.size());
  return out + body;
}

std::string encode(const Explanation& e) {
  json layouts = json::array();
  std::string body;
  append_tensor(layouts, body, "", e.attributions);
  for (const auto& [name, t] : e.extras) append_tensor(layouts, body, name, t);
  return frame({{"ok", true},
                {"info", e.info},
                {"forward_rows", e.forward_rows},
                {"backward_rows", e.backward_rows},
                {"tensors", layouts}},
               body);
}

Explanation decode(const std::string& bytes) {
  uint64_t n = 0;
  ATTRIB_CHECK(bytes.size() >= sizeof n, "truncated answer");
  std::memcpy(&n, bytes.data(), sizeof n);
  ATTRIB_CHECK(n <= bytes.size() - sizeof n, "truncated answer header");
  const json h = json::from_cbor(bytes.begin() + sizeof n, bytes.begin() + sizeof n + n);
  // The plugin's own exception: thrown again as it would be in the host, message unchanged.
  if (!h.at("ok").get<bool>()) throw PluginException(h.at("error").get<std::string>());
  Explanation e;
  e.info = h.at("info");
  e.forward_rows = h.at("forward_rows");
  e.backward_rows = h.at("backward_rows");
  size_t offset = sizeof n + n;
  bool first = true;
  for (const json& l : h.at("tensors")) {
    at::Tensor t;
    if (l.at("defined").get<bool>()) {
      t = at::empty(
          l.at("shape").get<std::vector<int64_t>>(),
          at::TensorOptions().dtype(static_cast<at::ScalarType>(l.at("dtype").get<int>())));
      ATTRIB_CHECK(t.nbytes() <= bytes.size() - offset, "truncated answer body");
      std::memcpy(t.data_ptr(), bytes.data() + offset, t.nbytes());
      offset += t.nbytes();
    }
    if (first) {
      e.attributions = t;
      first = false;
    } else {
      e.extras[l.at("name").get<std::string>()] = t;
    }
  }
  return e;
}

void write_all(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    const ssize_t w = ::write(fd, s.data() + done, s.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;  // the host is gone or gave up: nothing left to tell
    done += static_cast<size_t>(w);
  }
}

// The child: explain in a new thread and write the answer. A new thread, because the OpenMP
// runtime (libgomp) keeps its worker pool in the forking thread's state: that pool's threads do
// not exist in the child, and the first parallel region would wait for them forever. A fresh
// thread starts a fresh pool of the same size, so the numbers are the host's bit for bit.
[[noreturn]] void run_child(int fd, AttributionMethod& method, ModelAdapter& model,
                            const Batch& batch, const at::Tensor& targets,
                            const ExplainContext& ctx, int threads) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a host that was killed
  if (::getppid() == 1) ::_exit(1);
  // Ctrl-C is the host's to handle: it lets the call in flight finish.
  ::signal(SIGINT, SIG_IGN);
  ::signal(SIGTERM, SIG_IGN);
  const at::ThreadLocalState state;  // grad mode and dispatch state of the calling thread
  std::string answer;
  std::thread worker([&] {
    at::ThreadLocalStateGuard guard(state);
    at::set_num_threads(threads);
    try {
      answer = encode(method.explain(model, batch, targets, ctx));
    } catch (...) {
      answer = frame({{"ok", false}, {"error", in_flight_error()}}, "");
    }
  });
  worker.join();
  write_all(fd, answer);
  ::_exit(0);  // no destructors or atexit handlers of the host's copy
}

std::string signal_name(int sig) {
  const char* abbrev = ::sigabbrev_np(sig);
  const char* what = ::strsignal(sig);
  return std::string(abbrev ? "SIG" + std::string(abbrev) : "signal " + std::to_string(sig)) +
         (what ? " (" + std::string(what) + ")" : "");
}

class IsolatedMethod : public AttributionMethod {
 public:
  IsolatedMethod(std::shared_ptr<AttributionMethod> inner, std::string plugin, double timeout)
      : inner_(std::move(inner)), plugin_(std::move(plugin)), timeout_(timeout) {}

  Explanation explain(ModelAdapter& model, const Batch& batch, const at::Tensor& targets,
                      const ExplainContext& ctx) override {
    if (model.device().is_cuda()) {
      if (!warned_cuda_)
        std::cerr << "attrib: warning: plugin '" << plugin_
                  << "' runs in the host process: a forked child cannot use CUDA\n";
      warned_cuda_ = true;
      return inner_->explain(model, batch, targets, ctx);
    }
    const std::string where = "plugin '" + plugin_ + "' (batch from example '" +
                              (batch.ids.empty() ? std::string() : batch.ids.front()) + "')";
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
      throw Error(where + ": cannot create a pipe for its worker process (" + std::strerror(errno) +
                  ")");
    std::cout.flush();
    std::cerr.flush();
    std::fflush(nullptr);  // else buffered output would be written twice
    const int threads = at::get_num_threads();
    const pid_t pid = ::fork();
    if (pid < 0) {
      const int err = errno;
      ::close(fds[0]);
      ::close(fds[1]);
      throw Error(where + ": cannot start its worker process (" + std::strerror(err) + ")");
    }
    if (pid == 0) {
      ::close(fds[0]);
      run_child(fds[1], *inner_, model, batch, targets, ctx, threads);
    }
    ::close(fds[1]);
    std::string answer;
    const bool finished = read_answer(fds[0], answer);
    ::close(fds[0]);
    if (!finished) ::kill(pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!finished)
      throw Error(where + ": explain() did not finish within " + format_seconds(timeout_) +
                  " s (--method-timeout); its worker process was killed");
    if (WIFSIGNALED(status))
      throw Error(where + ": crashed with " + signal_name(WTERMSIG(status)) +
                  (WTERMSIG(status) == SIGKILL ? ", perhaps out of memory" : "") +
                  " in its worker process");
    if (answer.empty())
      throw Error(where + ": ended its worker process with exit(" +
                  std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) +
                  ") before returning an explanation");
    try {
      return decode(answer);
    } catch (const PluginException&) {
      throw;
    } catch (const Error& e) {
      throw Error(where + ": " + e.what());
    } catch (const std::exception& e) {
      throw Error(where + ": unreadable answer from its worker process (" + e.what() + ")");
    }
  }

 private:
  // Reads until end of file; false when the time-out passed first.
  bool read_answer(int fd, std::string& out) const {
    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + std::chrono::duration<double>(timeout_);
    char buf[1 << 16];
    for (;;) {
      const double left = std::chrono::duration<double>(deadline - Clock::now()).count();
      if (left <= 0) return false;
      pollfd p{fd, POLLIN, 0};
      const int ms = static_cast<int>(std::min(left * 1000.0 + 1, 1e9));
      const int r = ::poll(&p, 1, ms);
      if (r < 0 && errno == EINTR) continue;  // Ctrl-C: the call in flight still finishes
      if (r == 0) continue;
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return true;
      out.append(buf, static_cast<size_t>(n));
    }
  }

  static std::string format_seconds(double s) {
    char b[32];
    std::snprintf(b, sizeof b, "%g", s);
    return b;
  }

  std::shared_ptr<AttributionMethod> inner_;
  std::string plugin_;
  double timeout_;
  bool warned_cuda_ = false;
};

}  // namespace

json isolation_json(const IsolationOptions& options) {
  return {{"mode", options.mode}, {"method_timeout_seconds", options.timeout_seconds}};
}

IsolationOptions isolation_from_json(const json& j) {
  IsolationOptions o;
  if (!j.is_object()) return o;
  o.mode = j.value("mode", o.mode);
  o.timeout_seconds = j.value("method_timeout_seconds", o.timeout_seconds);
  check_isolation_mode(o.mode);
  return o;
}

void check_isolation_mode(const std::string& mode) {
  if (mode != "auto" && mode != "all" && mode != "none")
    throw Error("--isolate: expected auto, all or none, got \"" + mode + "\"");
}

bool isolated(const PluginInfo& plugin, const IsolationOptions& options) {
  if (options.mode == "all") return true;
  if (options.mode == "none") return false;
  // auto: third-party code, i.e. any library outside the built-in folder.
  std::error_code ec;
  const auto folder = [&](const std::filesystem::path& p) {
    return std::filesystem::weakly_canonical(p, ec).lexically_normal();
  };
  return folder(std::filesystem::path(plugin.path).parent_path()) != folder(builtin_plugin_dir());
}

std::shared_ptr<AttributionMethod> isolate(std::shared_ptr<AttributionMethod> method,
                                           const std::string& plugin, double timeout_seconds) {
  return std::make_shared<IsolatedMethod>(std::move(method), plugin, timeout_seconds);
}

}  // namespace attrib
