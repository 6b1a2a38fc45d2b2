#pragma once

#include <QByteArray>
#include <QJsonArray>
#include <QJsonObject>
#include <QString>

namespace gh::test {

// Writes `json` (indented) to `path`, creating the folder. Returns false and sets *error on failure.
bool writeJsonFile(const QString &path, const QJsonObject &json, QString *error = nullptr);
bool writeJsonFile(const QString &path, const QJsonArray &json, QString *error = nullptr);

// The absolute path of a helper binary named by an environment variable (GATEHOUSE_BIN,
// MOCK_UPSTREAM_BIN), or an empty string when it is unset or not an executable file.
[[nodiscard]] QString binaryFromEnv(const char *variable, QString *error = nullptr);

// A chat completion request body: {"model": model, "messages": [{"role": "user", "content": prompt}]}
// plus "stream": true and stream_options.include_usage when asked.
[[nodiscard]] QJsonObject chatRequest(const QString &model, const QString &prompt = QStringLiteral("Say hello"),
                                      bool stream = false, bool includeUsage = false);

} // namespace gh::test
