#include "interrupt.h"

#include <csignal>

namespace attrib {

namespace {

volatile std::sig_atomic_t g_signal = 0;

extern "C" void on_signal(int sig) {
  g_signal = sig;
  std::signal(sig, SIG_DFL);  // a second Ctrl-C ends the process at once
}

}  // namespace

void install_interrupt_handlers() {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
}

bool interrupt_requested() { return g_signal != 0; }

void check_interrupted() {
  if (g_signal != 0) throw Interrupted();
}

}  // namespace attrib
