#pragma once
#include "connect/snippets.h"
#include <QString>
#include <optional>

namespace gh {

// `gatehouse connect TOOL [--key NAME] [--model M]`: the snippet the window's "Connect a tool"
// dialog shows, for headless users. Reads the database in dataDir (the providers, models and routes
// a running gateway serves, and the key's allowed models); changes nothing in it.
struct ConnectCommand {
    QString tool;
    QString dataDir;
    std::optional<int> port; // --port; else the stored setting, else the default port
    QString keyName;         // --key; empty: none in particular
    QString model;           // --model
};

struct ConnectCommandResult {
    int exitCode = 0; // 0, 2: bad arguments (unknown tool or key), 1: the database cannot be read
    QString output;   // the snippet, for stdout
    QString error;    // for stderr
};

[[nodiscard]] ConnectCommandResult runConnectCommand(const ConnectCommand &command);

} // namespace gh
