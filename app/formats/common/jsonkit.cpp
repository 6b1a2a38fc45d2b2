#include "formats/common/jsonkit.h"
#include <cmath>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QUrl>
#include <simdjson.h>

Q_LOGGING_CATEGORY(lcTranslate, "gatehouse.translate")

namespace gh::tx {

struct OrderedSource::Impl {
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    bool ok = false;
};

OrderedSource::OrderedSource(QByteArrayView json)
    : d(std::make_unique<Impl>())
{
    // parse() copies into a padded buffer when the input has no padding.
    auto result = d->parser.parse(json.data() ? json.data() : "", size_t(json.size()), true);
    d->ok = !result.get(d->root);
}

OrderedSource::~OrderedSource() = default;

std::optional<QByteArray> OrderedSource::raw(const QString &pointer) const
{
    if (!d->ok)
        return std::nullopt;
    const QByteArray p = pointer.toUtf8();
    simdjson::dom::element e;
    if (d->root.at_pointer(std::string_view(p.constData(), size_t(p.size()))).get(e))
        return std::nullopt;
    const std::string s = simdjson::minify(e);
    return QByteArray(s.data(), qsizetype(s.size()));
}

std::optional<QByteArray> minifyJson(QByteArrayView text)
{
    simdjson::dom::parser parser;
    simdjson::dom::element e;
    if (parser.parse(text.data() ? text.data() : "", size_t(text.size()), true).get(e))
        return std::nullopt;
    const std::string s = simdjson::minify(e);
    return QByteArray(s.data(), qsizetype(s.size()));
}

RawSplicer::RawSplicer()
    : m_tag(QChar(1) + QString::number(QRandomGenerator::global()->generate64(), 36) + QLatin1Char(':'))
{ }

QJsonValue RawSplicer::raw(const QByteArray &json)
{
    m_raws.append(json);
    return QJsonValue(m_tag + QString::number(m_raws.size() - 1) + QChar(1));
}

QByteArray RawSplicer::toJson(const QJsonObject &o) const
{
    QByteArray text = QJsonDocument(o).toJson(QJsonDocument::Compact);
    if (m_raws.isEmpty())
        return text;
    // A placeholder serializes as "\u0001<tag>:<n>\u0001" (QJsonDocument escapes U+0001 so).
    const QByteArray open = "\"\\u0001" + m_tag.mid(1).toUtf8();
    const QByteArray close = "\\u0001\"";
    QByteArray out;
    out.reserve(text.size());
    qsizetype pos = 0;
    while (true) {
        const qsizetype at = text.indexOf(open, pos);
        if (at < 0)
            break;
        qsizetype i = at + open.size();
        qsizetype n = 0;
        const qsizetype digitsStart = i;
        while (i < text.size() && text.at(i) >= '0' && text.at(i) <= '9') {
            n = n * 10 + (text.at(i) - '0');
            ++i;
        }
        if (i == digitsStart || !text.mid(i).startsWith(close) || n >= m_raws.size()) {
            out.append(text.constData() + pos, at + open.size() - pos);
            pos = at + open.size();
            continue;
        }
        out.append(text.constData() + pos, at - pos);
        out.append(m_raws.at(n));
        pos = i + close.size();
    }
    out.append(text.constData() + pos, text.size() - pos);
    return out;
}

QJsonValue ordered(const OrderedSource &src, RawSplicer &out, const QString &pointer, const QJsonValue &fallback)
{
    if (fallback.isObject() || fallback.isArray()) {
        if (auto r = src.raw(pointer))
            return out.raw(*r);
    }
    return fallback;
}

std::optional<QJsonObject> parseObject(QByteArrayView json)
{
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromRawData(json.data(), json.size()), &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject())
        return std::nullopt;
    return doc.object();
}

QByteArray compact(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

std::optional<DataUrl> parseDataUrl(const QString &url)
{
    if (!url.startsWith(QLatin1String("data:"), Qt::CaseInsensitive))
        return std::nullopt;
    const qsizetype comma = url.indexOf(QLatin1Char(','));
    if (comma < 0)
        return std::nullopt;
    const QString meta = url.mid(5, comma - 5);
    const QStringList parts = meta.split(QLatin1Char(';'));
    if (!parts.contains(QLatin1String("base64"), Qt::CaseInsensitive))
        return std::nullopt;
    DataUrl d;
    d.mimeType = parts.first().trimmed().toLower();
    if (d.mimeType.isEmpty())
        return std::nullopt;
    d.data = url.mid(comma + 1);
    return d;
}

bool isHttpUrl(const QString &url)
{
    return url.startsWith(QLatin1String("https://"), Qt::CaseInsensitive)
        || url.startsWith(QLatin1String("http://"), Qt::CaseInsensitive);
}

QString guessImageMimeType(const QString &url)
{
    const QString path = QUrl(url).path().toLower();
    if (path.endsWith(QLatin1String(".png")))
        return QStringLiteral("image/png");
    if (path.endsWith(QLatin1String(".gif")))
        return QStringLiteral("image/gif");
    if (path.endsWith(QLatin1String(".webp")))
        return QStringLiteral("image/webp");
    if (path.endsWith(QLatin1String(".heic")))
        return QStringLiteral("image/heic");
    if (path.endsWith(QLatin1String(".heif")))
        return QStringLiteral("image/heif");
    if (path.endsWith(QLatin1String(".pdf")))
        return QStringLiteral("application/pdf");
    return QStringLiteral("image/jpeg");
}

QString randomId(const char *prefix, int length)
{
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    QString s = QString::fromLatin1(prefix);
    auto *rng = QRandomGenerator::global();
    for (int i = 0; i < length; ++i)
        s.append(QLatin1Char(alphabet[rng->bounded(int(sizeof alphabet - 1))]));
    return s;
}

QString idOr(const QJsonValue &v, const char *prefix)
{
    const QString s = v.toString();
    return s.isEmpty() ? randomId(prefix) : s;
}

QByteArray sseData(const QByteArray &json)
{
    return "data: " + json + "\n\n";
}

QByteArray sseEvent(const char *name, const QByteArray &json)
{
    return QByteArray("event: ") + name + "\ndata: " + json + "\n\n";
}

QJsonObject openAIUsageJson(const Usage &u)
{
    const qint64 prompt = u.totalInput();
    QJsonObject o;
    o.insert(QLatin1String("prompt_tokens"), prompt);
    o.insert(QLatin1String("completion_tokens"), u.outputTokens);
    o.insert(QLatin1String("total_tokens"), prompt + u.outputTokens);
    o.insert(QLatin1String("prompt_tokens_details"), QJsonObject{{QLatin1String("cached_tokens"), u.cacheReadTokens}});
    o.insert(QLatin1String("completion_tokens_details"),
        QJsonObject{{QLatin1String("reasoning_tokens"), u.reasoningTokens}});
    return o;
}

QJsonObject anthropicUsageJson(const Usage &u)
{
    QJsonObject o;
    o.insert(QLatin1String("input_tokens"), u.inputTokens);
    o.insert(QLatin1String("cache_creation_input_tokens"), u.cacheWriteTokens + u.cacheWrite1hTokens);
    o.insert(QLatin1String("cache_read_input_tokens"), u.cacheReadTokens);
    o.insert(QLatin1String("output_tokens"), u.outputTokens);
    return o;
}

QString anthropicStopToOpenAIFinish(const QString &stopReason, bool onlyResponseFormatTool)
{
    if (stopReason == QLatin1String("end_turn") || stopReason == QLatin1String("stop_sequence")
        || stopReason == QLatin1String("pause_turn"))
        return QStringLiteral("stop");
    if (stopReason == QLatin1String("max_tokens") || stopReason == QLatin1String("model_context_window_exceeded"))
        return QStringLiteral("length");
    if (stopReason == QLatin1String("tool_use"))
        return onlyResponseFormatTool ? QStringLiteral("stop") : QStringLiteral("tool_calls");
    if (stopReason == QLatin1String("refusal"))
        return QStringLiteral("content_filter");
    return QStringLiteral("stop");
}

QString openAIFinishToAnthropicStop(const QString &finishReason)
{
    if (finishReason == QLatin1String("length"))
        return QStringLiteral("max_tokens");
    if (finishReason == QLatin1String("tool_calls") || finishReason == QLatin1String("function_call"))
        return QStringLiteral("tool_use");
    if (finishReason == QLatin1String("content_filter"))
        return QStringLiteral("refusal");
    return QStringLiteral("end_turn");
}

QString geminiFinishToOpenAI(const QString &r, bool sawFunctionCall)
{
    if (r == QLatin1String("MAX_TOKENS"))
        return QStringLiteral("length");
    if (r == QLatin1String("SAFETY") || r == QLatin1String("RECITATION") || r == QLatin1String("BLOCKLIST")
        || r == QLatin1String("PROHIBITED_CONTENT") || r == QLatin1String("SPII") || r == QLatin1String("IMAGE_SAFETY"))
        return QStringLiteral("content_filter");
    return sawFunctionCall ? QStringLiteral("tool_calls") : QStringLiteral("stop");
}

QString openAIErrorMessage(const QJsonObject &body)
{
    const QJsonValue e = body.value(QLatin1String("error"));
    const QString m = e.isObject() ? e.toObject().value(QLatin1String("message")).toString() : e.toString();
    return m.isEmpty() ? QStringLiteral("The provider reported an error.") : m;
}

QByteArray openAIErrorJson(const QString &message, const QByteArray &type, const QByteArray &code)
{
    QJsonObject e;
    e.insert(QLatin1String("message"), message);
    e.insert(QLatin1String("type"), QString::fromUtf8(type));
    e.insert(QLatin1String("param"), QJsonValue::Null);
    e.insert(
        QLatin1String("code"), code.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(QString::fromUtf8(code)));
    return compact(QJsonObject{{QLatin1String("error"), e}});
}

QByteArray anthropicErrorJson(const QByteArray &type, const QString &message)
{
    QJsonObject e;
    e.insert(QLatin1String("type"), QString::fromUtf8(type));
    e.insert(QLatin1String("message"), message);
    return compact(QJsonObject{{QLatin1String("type"), QStringLiteral("error")}, {QLatin1String("error"), e}});
}

QString contentText(const QJsonValue &content)
{
    if (content.isString())
        return content.toString();
    QString text;
    if (content.isArray()) {
        for (const QJsonValue &p : content.toArray()) {
            const QJsonObject part = p.toObject();
            if (part.value(QLatin1String("text")).isString())
                text += part.value(QLatin1String("text")).toString();
            else if (p.isString())
                text += p.toString();
        }
    }
    return text;
}

bool isInteger(const QJsonValue &v)
{
    if (!v.isDouble())
        return false;
    const double d = v.toDouble();
    return std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9.007199254740992e15;
}

std::nullopt_t refuse(TranslateError *err, const QString &feature, const QString &message)
{
    if (err) {
        err->feature = feature;
        err->message = message;
    }
    return std::nullopt;
}

// ---- Shared by the request and response translators ------------------------------------------

QString at(const QString &path, qsizetype i)
{
    return path + QLatin1Char('[') + QString::number(i) + QLatin1Char(']');
}
QString ptr(const QString &base, qsizetype i)
{
    return base + QLatin1Char('/') + QString::number(i);
}
QString ptr(const QString &base, const char *key)
{
    return base + QLatin1Char('/') + QLatin1String(key);
}

bool present(const QJsonObject &o, const char *key)
{
    const QJsonValue v = o.value(QLatin1String(key));
    return !v.isUndefined() && !v.isNull();
}

// Sampling fields both sides share.
bool nonZeroNumber(const QJsonValue &v)
{
    return v.isDouble() && v.toDouble() != 0.0;
}

// The max_tokens of a request: max_completion_tokens, else max_tokens.
std::optional<qint64> openAIMaxTokens(const QJsonObject &req, TranslateError *err, bool *bad)
{
    *bad = false;
    for (const char *key : {"max_completion_tokens", "max_tokens"}) {
        const QJsonValue v = req.value(QLatin1String(key));
        if (v.isUndefined() || v.isNull())
            continue;
        if (!isInteger(v) || v.toDouble() < 1) {
            *bad = true;
            refuse(err, QString::fromLatin1(key),
                QStringLiteral("'%1' must be a positive integer.").arg(QLatin1String(key)));
            return std::nullopt;
        }
        return qint64(v.toDouble());
    }
    return std::nullopt;
}

// Features of an OpenAI request no other provider here can express.
std::optional<bool> refuseOpenAIOnly(const QJsonObject &req, const QString &target, bool allowN, TranslateError *err)
{
    const QJsonValue n = req.value(QLatin1String("n"));
    if (!allowN && !n.isUndefined() && !n.isNull() && !(isInteger(n) && n.toDouble() == 1))
        return refuse(
            err, QStringLiteral("n"), QStringLiteral("%1 returns one choice per request: 'n' must be 1.").arg(target));
    if (req.value(QLatin1String("logprobs")).toBool())
        return refuse(
            err, QStringLiteral("logprobs"), QStringLiteral("%1 does not return log probabilities.").arg(target));
    if (present(req, "top_logprobs"))
        return refuse(
            err, QStringLiteral("top_logprobs"), QStringLiteral("%1 does not return log probabilities.").arg(target));
    if (present(req, "audio"))
        return refuse(err, QStringLiteral("audio"), QStringLiteral("%1 does not produce audio output.").arg(target));
    for (const QJsonValue &m : req.value(QLatin1String("modalities")).toArray()) {
        if (m.toString() != QLatin1String("text"))
            return refuse(err, QStringLiteral("modalities"),
                QStringLiteral("%1 only produces text here; modality '%2' is not available.")
                    .arg(target, m.toString()));
    }
    if (present(req, "prediction"))
        return refuse(err, QStringLiteral("prediction"), QStringLiteral("%1 has no predicted outputs.").arg(target));
    if (present(req, "web_search_options"))
        return refuse(err, QStringLiteral("web_search_options"),
            QStringLiteral("OpenAI's built-in web search cannot be used with %1.").arg(target));
    if (present(req, "functions") || present(req, "function_call"))
        return refuse(err, QStringLiteral("functions"),
            QStringLiteral("The deprecated 'functions' / 'function_call' fields are not translated; use 'tools' and "
                           "'tool_choice'."));
    const QJsonValue bias = req.value(QLatin1String("logit_bias"));
    if (bias.isObject() && !bias.toObject().isEmpty())
        return refuse(err, QStringLiteral("logit_bias"), QStringLiteral("%1 has no logit bias.").arg(target));
    return true;
}

QByteArray failOpenAI(TranslateError *err, const QString &message)
{
    refuse(err, QStringLiteral("response"), message);
    return openAIErrorJson(message, "upstream_error", "bad_upstream_response");
}

QString excerpt(const QByteArray &body)
{
    QString s = QString::fromUtf8(body.left(300)).simplified();
    return s.isEmpty() ? QStringLiteral("(empty body)") : s;
}

QString reasonPhrase(int status)
{
    switch (status) {
    case 400:
        return QStringLiteral("Bad request");
    case 401:
        return QStringLiteral("Authentication failed");
    case 402:
        return QStringLiteral("Payment required");
    case 403:
        return QStringLiteral("Permission denied");
    case 404:
        return QStringLiteral("Not found");
    case 408:
        return QStringLiteral("Request timeout");
    case 413:
        return QStringLiteral("Request too large");
    case 429:
        return QStringLiteral("Rate limited");
    case 500:
        return QStringLiteral("Internal server error");
    case 502:
        return QStringLiteral("Bad gateway");
    case 503:
        return QStringLiteral("Service unavailable");
    case 504:
        return QStringLiteral("Gateway timeout");
    case 529:
        return QStringLiteral("Overloaded");
    default:
        return QStringLiteral("HTTP error %1").arg(status);
    }
}

Usage usageFrom(const QJsonValue &v, bool (*parse)(std::string_view, Usage &))
{
    Usage u;
    if (!v.isObject())
        return u;
    const QByteArray raw = compact(v.toObject());
    if (!parse(std::string_view(raw.constData(), size_t(raw.size())), u))
        return Usage();
    return u;
}

} // namespace gh::tx

namespace gh {

QByteArray openAIErrorType(int status)
{
    switch (status) {
    case 401:
        return "authentication_error";
    case 402:
        return "insufficient_quota";
    case 403:
        return "permission_error";
    case 429:
        return "rate_limit_error";
    case 502:
    case 504:
        return "upstream_error";
    case 503:
        return "service_unavailable";
    default:
        return status >= 400 && status < 500 ? "invalid_request_error" : "server_error";
    }
}

} // namespace gh
