#include "connect/connectcommand.h"
#include "state/configapply.h"
#include "store/store.h"
#include <QDir>
#include <QFileInfo>

namespace gh {

namespace {
constexpr int kDefaultPort = 8484; // Gateway::kDefaultPort (gh_gateway is not a dependency here)
}

ConnectCommandResult runConnectCommand(const ConnectCommand &command)
{
    ConnectCommandResult result;
    if (snippetToolTitle(command.tool).isEmpty()) {
        result.exitCode = 2;
        result.error = QStringLiteral("unknown tool '%1'; one of: %2")
                           .arg(command.tool, snippetTools().join(QLatin1String(", ")));
        return result;
    }
    const QString dbPath = QDir(command.dataDir).filePath(QStringLiteral("gatehouse.db"));
    if (!QFileInfo::exists(dbPath)) {
        result.exitCode = 1;
        result.error = QStringLiteral("no Gatehouse database in %1: start Gatehouse once (or pass --data-dir)")
                           .arg(command.dataDir);
        return result;
    }
    Store store;
    QString error;
    if (!store.open(dbPath, &error)) {
        result.exitCode = 1;
        result.error = QStringLiteral("cannot open the database %1: %2").arg(dbPath, error);
        return result;
    }
    ConnectRequest request;
    request.tool = command.tool;
    request.model = command.model;
    if (!command.keyName.isEmpty()) {
        const auto key = store.keyByName(command.keyName);
        if (!key || key->revoked) {
            QStringList names;
            for (const StoredKey &k : store.keys()) {
                if (!k.revoked)
                    names.append(k.name);
            }
            result.exitCode = 2;
            result.error = QStringLiteral("no key named '%1'; the keys are: %2")
                               .arg(command.keyName, names.isEmpty() ? QStringLiteral("(none)") : names.join(QLatin1String(", ")));
            return result;
        }
        request.keyName = key->name;
        request.allowModels = key->allowModels;
    }
    const GatewaySettings settings = loadGatewaySettings(store);
    const int port = command.port.value_or(settings.port.value_or(kDefaultPort));
    request.origin = QStringLiteral("http://127.0.0.1:%1").arg(port);
    // No provider secrets: the snapshot only says which models exist and who serves them.
    QStringList warnings;
    const auto registry = Registry::build(store.providers(), store.models(), {}, {}, {}, &warnings, store.routes());
    store.close();
    const ConnectSnippet snippet = connectSnippet(*registry, request);
    if (!snippet.ok) {
        result.exitCode = 2;
        result.error = snippet.error;
        return result;
    }
    result.output = snippet.text;
    return result;
}

} // namespace gh
