#include "chatstream.h"
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>

Q_DECLARE_LOGGING_CATEGORY(lcUi)

namespace gh::ui {

namespace {

constexpr qsizetype kMaxErrorBody = 64 * 1024;

// The message of an error body ({"error": {"message": ...}}), or the body itself, shortened.
QString errorMessage(const QByteArray &body)
{
    const QJsonObject o = QJsonDocument::fromJson(body).object();
    const QJsonValue error = o.value(QStringLiteral("error"));
    if (error.isObject()) {
        const QString message = error.toObject().value(QStringLiteral("message")).toString();
        if (!message.isEmpty())
            return message;
    }
    if (error.isString())
        return error.toString();
    const QString text = QString::fromUtf8(body).simplified();
    return text.size() > 300 ? text.left(300) + QStringLiteral("…") : text;
}

} // namespace

ChatStream::ChatStream(QNetworkAccessManager *network, QObject *parent)
    : QObject(parent)
    , m_network(network)
{
}

ChatStream::~ChatStream()
{
    if (m_reply) {
        m_reply->disconnect(this);
        m_reply->abort();
        m_reply->deleteLater();
    }
}

void ChatStream::start(const QUrl &url, const QString &bearer, const QByteArray &body)
{
    Q_ASSERT(!m_reply);
    m_result = {};
    m_framer.clear();
    m_errorBody.clear();
    m_headersSeen = false;
    m_isEventStream = false;
    m_done = false;
    QNetworkRequest request(url);
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    request.setRawHeader("Accept", "text/event-stream");
    request.setRawHeader("Authorization", "Bearer " + bearer.toUtf8());
    request.setAttribute(QNetworkRequest::Http2AllowedAttribute, false);
    request.setTransferTimeout(0); // a model may think for minutes before its first token
    m_clock.start();
    m_reply = m_network->post(request, body);
    connect(m_reply, &QNetworkReply::readyRead, this, &ChatStream::onReadyRead);
    connect(m_reply, &QNetworkReply::finished, this, &ChatStream::onFinished);
}

void ChatStream::abort()
{
    if (!m_reply || m_done)
        return;
    m_result.aborted = true;
    QNetworkReply *reply = m_reply;
    reply->disconnect(this);
    reply->abort();
    reply->deleteLater();
    m_reply = nullptr;
    finish();
}

void ChatStream::onReadyRead()
{
    if (!m_reply)
        return;
    if (!m_headersSeen) {
        m_headersSeen = true;
        m_result.status = m_reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        m_result.requestId = QString::fromLatin1(m_reply->rawHeader("x-gatehouse-request-id"));
        m_result.servedModel = QString::fromUtf8(m_reply->rawHeader("x-gatehouse-model"));
        m_isEventStream = m_result.status < 400
            && m_reply->header(QNetworkRequest::ContentTypeHeader).toString().startsWith(QLatin1String("text/event-stream"));
        Q_EMIT headersReceived();
        if (!m_reply)
            return; // aborted from a slot
    }
    const QByteArray bytes = m_reply->readAll();
    if (!m_isEventStream) {
        if (m_errorBody.size() < kMaxErrorBody)
            m_errorBody += bytes.left(kMaxErrorBody - m_errorBody.size());
        return;
    }
    m_framer.feed(bytes, [this](QByteArrayView event) { handleEvent(event); });
}

void ChatStream::handleEvent(QByteArrayView rawEvent)
{
    const QByteArray data = SseFramer::eventData(rawEvent);
    if (data.isEmpty() || data == "[DONE]")
        return;
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(data, &parseError);
    if (!doc.isObject()) {
        if (m_result.error.isEmpty())
            m_result.error = tr("The stream sent data that is not JSON: %1").arg(parseError.errorString());
        return;
    }
    const QJsonObject o = doc.object();
    if (o.contains(QStringLiteral("error"))) {
        m_result.error = errorMessage(data);
        return;
    }
    const QJsonValue usage = o.value(QStringLiteral("usage"));
    if (usage.isObject()) {
        const QByteArray text = QJsonDocument(usage.toObject()).toJson(QJsonDocument::Compact);
        Usage u;
        if (parseOpenAIUsage(std::string_view(text.constData(), size_t(text.size())), u)) {
            u.reported = true;
            m_result.usage = u;
        }
    }
    const QJsonArray choices = o.value(QStringLiteral("choices")).toArray();
    if (choices.isEmpty())
        return;
    const QJsonObject change = choices.at(0).toObject().value(QStringLiteral("delta")).toObject();
    const QString content = change.value(QStringLiteral("content")).toString();
    if (content.isEmpty())
        return;
    if (m_result.ttftMs < 0)
        m_result.ttftMs = m_clock.elapsed();
    m_result.contentChars += content.size();
    Q_EMIT delta(content);
}

void ChatStream::onFinished()
{
    QNetworkReply *reply = m_reply;
    if (!reply)
        return;
    if (!m_headersSeen)
        onReadyRead(); // an empty body: read the status and headers anyway
    else if (reply->bytesAvailable() > 0)
        onReadyRead();
    if (!m_reply)
        return;
    if (m_isEventStream && !m_framer.pending().isEmpty()) {
        // A last event without its blank line: the stream ended early.
        QByteArray last = m_framer.pending() + "\n\n";
        m_framer.clear();
        handleEvent(last);
    }
    if (m_result.error.isEmpty()) {
        if (m_result.status >= 400 || (m_result.status > 0 && !m_isEventStream && m_result.status >= 300)) {
            m_result.error = m_errorBody.isEmpty() ? tr("The gateway answered %1").arg(m_result.status) : errorMessage(m_errorBody);
        } else if (reply->error() != QNetworkReply::NoError) {
            m_result.error = reply->errorString();
        } else if (m_result.status > 0 && !m_isEventStream) {
            m_result.error = tr("The gateway did not answer with a stream (%1)").arg(errorMessage(m_errorBody));
        }
    }
    m_reply = nullptr;
    reply->deleteLater();
    finish();
}

void ChatStream::finish()
{
    if (m_done)
        return;
    m_done = true;
    m_result.totalMs = m_clock.isValid() ? m_clock.elapsed() : 0;
    Q_EMIT finished();
}

} // namespace gh::ui
