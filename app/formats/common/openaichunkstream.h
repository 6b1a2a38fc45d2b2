#pragma once
#include "formats/common/translate.h"
#include <QJsonObject>

namespace gh::tx {

// The client side of a stream whose upstream speaks the internal form (OpenAI chat.completion.chunk
// events), for client formats other than OpenAI chat (Gemini, Responses). It walks each chunk the
// same way for all of them: [DONE] closes, an error object inside the stream is passed on, then the
// chunk's usage, choice 0's delta and its finish_reason; the subclass only writes its own events.
class OpenAIChunkStream : public StreamTranslator
{
public:
    QByteArray feed(QByteArrayView eventName, QByteArrayView data) final;
    QByteArray finish() final { return m_ended ? QByteArray() : close(); }
    [[nodiscard]] bool sawError() const final { return m_sawError; }
    [[nodiscard]] QString errorMessage() const final { return m_errorMessage; }
    [[nodiscard]] bool ended() const final { return m_ended; }
    [[nodiscard]] Usage usage() const final { return m_usage; }

protected:
    // A chunk arrived, before its delta is handled (e.g. the client stream's opening events).
    virtual QByteArray begin(const QJsonObject &chunk) = 0;
    // Choice 0's delta.
    virtual QByteArray delta(const QJsonObject &delta) = 0;
    // The upstream stream ended cleanly: the client's closing events. Sets m_ended.
    virtual QByteArray close() = 0;
    // An error object arrived inside the upstream stream (m_sawError and m_errorMessage are set):
    // the client's error events. Sets m_ended when the client's format ends the stream there.
    virtual QByteArray streamError(const QString &message) = 0;

    QString m_finish; // choice 0's last finish_reason
    Usage m_usage;
    bool m_ended = false;
    bool m_sawError = false;
    QString m_errorMessage;
};

} // namespace gh::tx
