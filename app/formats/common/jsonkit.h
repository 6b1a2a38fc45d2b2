#pragma once
// Helpers shared by the adapters' translators (not part of the formats' contract).
#include "formats/common/translate.h"
#include "providers/usage.h"
#include <memory>
#include <optional>
#include <QByteArray>
#include <QJsonArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QLoggingCategory>
#include <QString>

Q_DECLARE_LOGGING_CATEGORY(lcTranslate)

namespace gh::tx {

// The original document read with simdjson's DOM, which keeps object keys in document order, so a
// sub-value can be copied out with its key order intact (QJsonObject sorts keys).
class OrderedSource
{
public:
    explicit OrderedSource(QByteArrayView json);
    ~OrderedSource();
    OrderedSource(const OrderedSource &) = delete;
    OrderedSource &operator=(const OrderedSource &) = delete;
    // The compact JSON text of the value at the JSON pointer ("/tools/0/function/parameters").
    [[nodiscard]] std::optional<QByteArray> raw(const QString &pointer) const;

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

// Compact JSON text of `text` with its key order kept; nullopt when it is not one valid JSON value.
[[nodiscard]] std::optional<QByteArray> minifyJson(QByteArrayView text);

// Builds output with QJsonObject and splices raw JSON texts in at serialization: raw() returns a
// placeholder string value that toJson() replaces by the text.
class RawSplicer
{
public:
    RawSplicer();
    [[nodiscard]] QJsonValue raw(const QByteArray &json);
    [[nodiscard]] QByteArray toJson(const QJsonObject &o) const;

private:
    QString m_tag;
    QList<QByteArray> m_raws;
};

// A value of the source, copied in key order when possible (else via QJsonValue).
QJsonValue ordered(const OrderedSource &src, RawSplicer &out, const QString &pointer, const QJsonValue &fallback);

// Parses a JSON object; nullopt when not an object.
[[nodiscard]] std::optional<QJsonObject> parseObject(QByteArrayView json);
[[nodiscard]] QByteArray compact(const QJsonObject &o);

// data:<mime>;base64,<data>
struct DataUrl {
    QString mimeType;
    QString data;
};
[[nodiscard]] std::optional<DataUrl> parseDataUrl(const QString &url);
[[nodiscard]] bool isHttpUrl(const QString &url);
// A MIME type guessed from a URL's file extension (image/jpeg when unknown).
[[nodiscard]] QString guessImageMimeType(const QString &url);

// Random [A-Za-z0-9] identifier with a prefix.
[[nodiscard]] QString randomId(const char *prefix, int length = 24);

// The value when it is a non-empty string, else a new random id.
[[nodiscard]] QString idOr(const QJsonValue &v, const char *prefix);

// SSE framing.
[[nodiscard]] QByteArray sseData(const QByteArray &json);
[[nodiscard]] QByteArray sseEvent(const char *name, const QByteArray &json);

// Usage objects in each client shape from the normalized struct.
[[nodiscard]] QJsonObject openAIUsageJson(const Usage &u);
[[nodiscard]] QJsonObject anthropicUsageJson(const Usage &u);

// Finish / stop reasons.
[[nodiscard]] QString anthropicStopToOpenAIFinish(const QString &stopReason, bool onlyResponseFormatTool);
[[nodiscard]] QString openAIFinishToAnthropicStop(const QString &finishReason);
[[nodiscard]] QString geminiFinishToOpenAI(const QString &finishReason, bool sawFunctionCall);

// Error object bodies.
// The message of an OpenAI error body ({"error": {"message"}} or {"error": "..."}); a generic one when it has none.
[[nodiscard]] QString openAIErrorMessage(const QJsonObject &body);
[[nodiscard]] QByteArray openAIErrorJson(const QString &message, const QByteArray &type, const QByteArray &code);
[[nodiscard]] QByteArray anthropicErrorJson(const QByteArray &type, const QString &message);

// Text of an OpenAI message content (string, or an array of text parts joined).
[[nodiscard]] QString contentText(const QJsonValue &content);

// JSON integer check (QJsonValue stores doubles).
[[nodiscard]] bool isInteger(const QJsonValue &v);

// Reports a refusal: sets *err and returns nullopt (for `return refuse(...)`).
std::nullopt_t refuse(TranslateError *err, const QString &feature, const QString &message);
// The same for the sections that answer true (go on) or false (refused).
inline bool refused(TranslateError *err, const QString &feature, const QString &message)
{
    refuse(err, feature, message);
    return false;
}

// Member names every format's translator reads.
inline const QLatin1String kType("type");
inline const QLatin1String kText("text");
inline const QLatin1String kContent("content");
inline const QLatin1String kRole("role");

// ---- Shared by the request and response translators ------------------------------------------
// Error paths for people ("messages[2]") and JSON pointers for OrderedSource ("/messages/2").
[[nodiscard]] QString at(const QString &path, qsizetype i);
[[nodiscard]] QString ptr(const QString &base, qsizetype i);
[[nodiscard]] QString ptr(const QString &base, const char *key);
// The key is there and not null.
[[nodiscard]] bool present(const QJsonObject &o, const char *key);
// A number other than 0 (sampling fields both sides share).
[[nodiscard]] bool nonZeroNumber(const QJsonValue &v);
// The max_tokens of an OpenAI request: max_completion_tokens, else max_tokens; *bad (with *err) when
// the value is not a positive integer.
[[nodiscard]] std::optional<qint64> openAIMaxTokens(const QJsonObject &req, TranslateError *err, bool *bad);
// Features of an OpenAI request no other provider here can express: refused naming `target`.
[[nodiscard]] std::optional<bool> refuseOpenAIOnly(
    const QJsonObject &req, const QString &target, bool allowN, TranslateError *err);
// A provider's response that is not of the expected shape: *err set, an OpenAI error body returned.
[[nodiscard]] QByteArray failOpenAI(TranslateError *err, const QString &message);
// The start of a body for an error message ("(empty body)" when empty).
[[nodiscard]] QString excerpt(const QByteArray &body);
// "Rate limited" for 429 and so on; "HTTP error N" for the others.
[[nodiscard]] QString reasonPhrase(int status);
// A usage object read with one of providers/usage.h's parsers; empty when absent or unreadable.
[[nodiscard]] Usage usageFrom(const QJsonValue &v, bool (*parse)(std::string_view, Usage &));

} // namespace gh::tx
