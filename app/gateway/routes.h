#pragma once
#include "formats/formatadapter.h"
#include "gateway/requestbody.h"
#include <QByteArrayView>
#include <QString>
#include <optional>

namespace gh {

// What serves a path: the proxy (a model request, forwarded and billed), a token count, or one of
// the control endpoints (controlendpoints.h), which are never forwarded.
enum class Handler { Proxy, CountTokens, Models, GeminiModels, KeyInfo, KeyResume, Health, Metrics, Root };

struct Route {
    const char *path = "";       // the route's own path, for errors ("/v1/chat/completions")
    bool post = false;           // POST, else GET (and HEAD)
    Handler handler = Handler::Proxy;
    Endpoint endpoint = Endpoint::ChatCompletions; // the body's endpoint (Proxy, CountTokens)
    WireFormat client = WireFormat::OpenAIChat;    // the client's wire format (its errors' shape)
    // Gemini's model requests name the model and the call in the URL:
    // /v1beta/models/<model>:generateContent | :streamGenerateContent | :countTokens (or /v1/models/...).
    QString model;
    bool stream = false;
};

// The route of a path (no query string; trailing slashes ignored); nullopt when none.
[[nodiscard]] std::optional<Route> matchRoute(QByteArrayView path);

// The value of `name` in a URL's query string, percent-decoded; empty when absent.
[[nodiscard]] QByteArray queryValue(QByteArrayView url, QByteArrayView name);

} // namespace gh
