// Metrics in a build without prometheus-cpp (UVFRAME_WITH_METRICS=OFF, e.g.
// the Windows cross build of scripts/build-windows.sh): main() refuses
// --metrics with "metrics are not in this build" (exit 2), so renderMetrics
// is never called.
#include "metrics_collector.h"

namespace uvframe {

bool metricsInThisBuild() {
  return false;
}

std::string renderMetrics(const MetricsSnapshot&) {
  return "# metrics are not in this build\n";
}

}  // namespace uvframe
