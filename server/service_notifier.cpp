// ServiceNotifier: see service_notifier.h. One sd_notify call per event
// (a datagram to $NOTIFY_SOCKET); the control thread calls it a few times
// in the server's life, never per connection or frame.
#include "service_notifier.h"

#include <cstdlib>
#include <string>

#ifdef UVFRAME_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace uvframe {
namespace {

void notify(std::string_view state, std::string_view status) {
#ifdef UVFRAME_HAVE_SYSTEMD
  std::string message(state);
  if (!status.empty()) {
    if (!message.empty()) message += '\n';
    message += "STATUS=";
    message += status;
  }
  // unset_environment=0: a restart of the control loop would notify again.
  sd_notify(0, message.c_str());
#else
  (void)state;
  (void)status;
#endif
}

}  // namespace

bool ServiceNotifier::enabled() {
#ifdef UVFRAME_HAVE_SYSTEMD
  return std::getenv("NOTIFY_SOCKET") != nullptr;
#else
  return false;
#endif
}

void ServiceNotifier::ready(std::string_view status) {
  notify("READY=1", status);
}

void ServiceNotifier::status(std::string_view status) {
  notify("", status);
}

void ServiceNotifier::stopping(std::string_view status) {
  notify("STOPPING=1", status);
}

}  // namespace uvframe
