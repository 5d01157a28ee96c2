// ServiceNotifier: tells a service manager how the server is doing, the way
// systemd's Type=notify expects (sd_notify): READY=1 once every worker
// listens, STATUS= with the latest stats line, STOPPING=1 when the drain
// begins. Without $NOTIFY_SOCKET (not started by systemd), or where libsystemd
// is not built in, every call does nothing.
#pragma once

#include <string_view>

namespace uvframe {

/// Called from the control thread only.
class ServiceNotifier {
 public:
  /// Every worker listens: the service is up.
  void ready(std::string_view status);
  /// A status line for `systemctl status` (the stats line, say).
  void status(std::string_view status);
  /// The drain has begun.
  void stopping(std::string_view status);
  /// False when no service manager listens (nothing will be sent).
  static bool enabled();
};

}  // namespace uvframe
