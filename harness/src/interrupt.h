#pragma once
// SIGINT/SIGTERM during a run: the unit in flight finishes (and is stored), then the run stops
// with partial results marked incomplete. A second signal ends the process at once (the store
// loses at most the unit in flight; resuming recomputes it).
#include <stdexcept>

namespace attrib {

/// Thrown at the next unit boundary after SIGINT or SIGTERM.
struct Interrupted : std::runtime_error {
  Interrupted() : std::runtime_error("interrupted") {}
};

/// Installs the handlers (once per process).
void install_interrupt_handlers();
/// True after a SIGINT or SIGTERM.
bool interrupt_requested();
/// Throws Interrupted when a signal arrived.
void check_interrupted();

}  // namespace attrib
