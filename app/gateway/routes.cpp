#include "gateway/routes.h"
#include <QUrl>

namespace gh {

namespace {

QByteArrayView trimmed(QByteArrayView p)
{
    while (p.size() > 1 && p.endsWith('/'))
        p.chop(1);
    return p;
}

const Route kRoutes[] = {
    {"/v1/chat/completions", true, Handler::Proxy, Endpoint::ChatCompletions, WireFormat::OpenAIChat, {}, false},
    {"/v1/completions", true, Handler::Proxy, Endpoint::Completions, WireFormat::OpenAIChat, {}, false},
    {"/v1/embeddings", true, Handler::Proxy, Endpoint::Embeddings, WireFormat::OpenAIChat, {}, false},
    {"/v1/responses", true, Handler::Proxy, Endpoint::Responses, WireFormat::OpenAIResponses, {}, false},
    {"/v1/messages", true, Handler::Proxy, Endpoint::Messages, WireFormat::Anthropic, {}, false},
    {"/v1/messages/count_tokens", true, Handler::CountTokens, Endpoint::CountTokens, WireFormat::Anthropic, {}, false},
    {"/v1/models", false, Handler::Models, Endpoint::ChatCompletions, WireFormat::OpenAIChat, {}, false},
    {"/v1beta/models", false, Handler::GeminiModels, Endpoint::ChatCompletions, WireFormat::Gemini, {}, false},
    {"/v1/key", false, Handler::KeyInfo, Endpoint::ChatCompletions, WireFormat::OpenAIChat, {}, false},
    {"/v1/key/resume", true, Handler::KeyResume, Endpoint::ChatCompletions, WireFormat::OpenAIChat, {}, false},
    {"/healthz", false, Handler::Health, Endpoint::ChatCompletions, WireFormat::OpenAIChat, {}, false},
    {"/metrics", false, Handler::Metrics, Endpoint::ChatCompletions, WireFormat::OpenAIChat, {}, false}, // app/telemetry
    {"/", false, Handler::Root, Endpoint::ChatCompletions, WireFormat::OpenAIChat, {}, false},
};

std::optional<Route> matchGemini(QByteArrayView path)
{
    // Google's SDKs use v1beta (Gemini CLI) or v1 (@google/genai 3.x): both serve the same calls.
    static constexpr QByteArrayView prefixes[] = {"/v1beta/models/", "/v1/models/"};
    QByteArrayView rest;
    for (const QByteArrayView prefix : prefixes) {
        if (path.startsWith(prefix)) {
            rest = path.sliced(prefix.size());
            break;
        }
    }
    if (rest.isEmpty())
        return std::nullopt;
    const qsizetype colon = rest.lastIndexOf(':');
    if (colon <= 0)
        return std::nullopt;
    const QByteArrayView call = rest.sliced(colon + 1);
    Route r;
    r.post = true;
    r.client = WireFormat::Gemini;
    r.model = QUrl::fromPercentEncoding(rest.first(colon).toByteArray());
    if (call == "generateContent") {
        r.path = "/v1beta/models/{model}:generateContent";
    } else if (call == "streamGenerateContent") {
        r.path = "/v1beta/models/{model}:streamGenerateContent";
        r.stream = true;
    } else if (call == "countTokens") {
        r.path = "/v1beta/models/{model}:countTokens";
        r.handler = Handler::CountTokens;
    } else {
        return std::nullopt;
    }
    return r;
}

} // namespace

std::optional<Route> matchRoute(QByteArrayView path)
{
    const QByteArrayView p = trimmed(path);
    for (const Route &r : kRoutes) {
        if (p == r.path)
            return r;
    }
    return matchGemini(p);
}

QByteArray queryValue(QByteArrayView url, QByteArrayView name)
{
    const qsizetype q = url.indexOf('?');
    if (q < 0)
        return {};
    QByteArrayView rest = url.sliced(q + 1);
    while (!rest.isEmpty()) {
        const qsizetype amp = rest.indexOf('&');
        const QByteArrayView pair = amp < 0 ? rest : rest.first(amp);
        rest = amp < 0 ? QByteArrayView() : rest.sliced(amp + 1);
        const qsizetype eq = pair.indexOf('=');
        if (eq >= 0 && pair.first(eq) == name)
            return QByteArray::fromPercentEncoding(pair.sliced(eq + 1).toByteArray().replace('+', ' '));
    }
    return {};
}

} // namespace gh
