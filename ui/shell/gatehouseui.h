#pragma once
#include <QString>

namespace gh {
class Gateway;
}

namespace gh::ui {

// Opens the desktop window on the running in-process gateway: the view models, the QML module, the
// tray icon and the single-instance socket. A QApplication must exist. False when the window
// cannot be loaded. Everything it creates is torn down when the application is about to quit,
// while the gateway still exists.
bool showMainWindow(gh::Gateway &gateway);

// Before starting a second gateway on the same data folder: asks a running Gatehouse window to come
// to the front. True when one did (then this process should exit 0).
bool raiseRunningInstance(const QString &dataDir);

} // namespace gh::ui
