#include "localservers.h"
#include "mockreplies.h"

namespace gh::mock {

namespace {

// The list of /v1/models with extra members on each entry.
QByteArray openAIList(const QList<QByteArray> &models, const QByteArray &ownedBy, const QByteArray &extra = {})
{
    QByteArray out = "{\"object\":\"list\",\"data\":[";
    for (qsizetype i = 0; i < models.size(); ++i) {
        if (i)
            out += ',';
        out += "{\"id\":" + jsonString(models[i]) + ",\"object\":\"model\",\"created\":1700000000,\"owned_by\":"
            + jsonString(ownedBy) + extra + '}';
    }
    return out + "]}";
}

} // namespace

bool isLocalServerKind(const QByteArray &kind)
{
    return kind == "ollama" || kind == "lmstudio" || kind == "llamacpp" || kind == "vllm" || kind == "jan";
}

std::optional<QByteArray> localServerReply(const QByteArray &kind, const QByteArray &path, const QList<QByteArray> &models)
{
    if (kind == "ollama") {
        if (path == "/api/version")
            return QByteArray("{\"version\":\"0.5.7\"}");
        if (path == "/api/tags") {
            QByteArray out = "{\"models\":[";
            for (qsizetype i = 0; i < models.size(); ++i) {
                if (i)
                    out += ',';
                out += "{\"name\":" + jsonString(models[i]) + ",\"model\":" + jsonString(models[i])
                    + ",\"modified_at\":\"2025-01-01T00:00:00Z\",\"size\":4661224676,\"digest\":\"0123abcd\","
                      "\"details\":{\"format\":\"gguf\",\"family\":\"llama\",\"parameter_size\":\"8B\"}}";
            }
            return out + "]}";
        }
        if (path == "/v1/models")
            return openAIList(models, "library");
    } else if (kind == "lmstudio") {
        if (path == "/api/v0/models") {
            QByteArray out = "{\"object\":\"list\",\"data\":[";
            for (qsizetype i = 0; i < models.size(); ++i) {
                if (i)
                    out += ',';
                out += "{\"id\":" + jsonString(models[i]) + ",\"object\":\"model\",\"type\":\"llm\",\"publisher\":\"mock\","
                       "\"arch\":\"llama\",\"state\":\"loaded\",\"max_context_length\":8192}";
            }
            // An embedding model, which is not offered for chat.
            out += QByteArray(models.isEmpty() ? "" : ",")
                + "{\"id\":\"text-embedding-mock\",\"object\":\"model\",\"type\":\"embeddings\",\"publisher\":\"mock\","
                  "\"arch\":\"bert\",\"state\":\"not-loaded\"}";
            return out + "]}";
        }
        if (path == "/v1/models")
            return openAIList(models, "organization_owner");
    } else if (kind == "llamacpp") {
        if (path == "/props")
            return QByteArray("{\"default_generation_settings\":{\"n_ctx\":4096},\"total_slots\":1,"
                              "\"model_path\":\"/models/mock.gguf\"}");
        if (path == "/v1/models")
            return openAIList(models, "llamacpp");
    } else if (kind == "vllm") {
        if (path == "/version")
            return QByteArray("{\"version\":\"0.6.3\"}");
        if (path == "/v1/models")
            return openAIList(models, "vllm", ",\"max_model_len\":8192");
    } else if (kind == "jan") {
        if (path == "/v1/models")
            return openAIList(models, "jan", ",\"engine\":\"llama.cpp\",\"format\":\"gguf\"");
    }
    return std::nullopt;
}

} // namespace gh::mock
