#pragma once
#include "providers/usage.h"
#include <QByteArray>
#include <QByteArrayView>

namespace gh {

// A large non-streamed response relayed to the client as it arrives instead of held whole: the
// upstream is read only as fast as the client takes it (backpressure), so memory stays bounded by
// the socket buffers whatever the size of the body. Keeps the first and last kWindow bytes, where
// the usage object is (last in OpenAI's and Anthropic's responses, as both document them), and reads
// the usage from there when the body is complete.
class BodyRelay
{
public:
    static constexpr qsizetype kWindow = 64 * 1024;

    void feed(QByteArrayView data);
    [[nodiscard]] qint64 bytes() const { return m_bytes; }
    // The usage object named `member` ("usage") found in the tail (else the head), read with
    // `reader` (which takes a JSON object with that one member). False when none was found.
    bool usage(bool (*reader)(QByteArrayView, Usage *, qint64 *), Usage *out, QByteArrayView member = "usage") const;

private:
    QByteArray m_head;
    QByteArray m_tail;
    qint64 m_bytes = 0;
};

// The JSON value that follows the last `"name":` in `text`, when it is an object complete in `text`;
// empty otherwise. Strings are skipped properly (braces in them do not count).
[[nodiscard]] QByteArrayView lastObjectMember(QByteArrayView text, QByteArrayView name);

} // namespace gh
