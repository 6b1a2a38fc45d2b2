#pragma once
#include <QByteArray>
#include <QList>
#include <optional>

namespace gh::mock {

// `mock_upstream --as KIND`: the mock also answers the native API of a local model server, so local
// discovery can be tested against a real process (its OpenAI-compatible /v1 stays the mock's own).
// KIND: ollama (/api/version, /api/tags), lmstudio (/api/v0/models), llamacpp (/props, /v1/models
// owned by llamacpp), vllm (/version, /v1/models owned by vllm), jan (/v1/models with Jan's fields).
[[nodiscard]] bool isLocalServerKind(const QByteArray &kind);
// The body of a GET `path` for that kind, or std::nullopt when the path is not one it overrides.
[[nodiscard]] std::optional<QByteArray> localServerReply(const QByteArray &kind, const QByteArray &path,
                                                         const QList<QByteArray> &models);

} // namespace gh::mock
