#pragma once
// Shared by the fuzz targets: the entry point each defines (driver.cpp is the one libFuzzer driver
// around it), stream feeding and invariant checks that abort on violation.
#include "formats/anthropic/anthropictranslate.h"
#include "formats/gemini/geminitranslate.h"
#include "http/sseframer.h"
#include "streamcheck.h"
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <QByteArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace fuzz {

inline void check(bool ok, const char *what, const QString &why = {}, const QByteArray &output = {})
{
    if (ok)
        return;
    std::fprintf(stderr, "invariant violated: %s: %s\n--- output ---\n%s\n", what, qPrintable(why),
        output.left(4000).constData());
    std::abort();
}

// One fuzz input; each target defines it, driver.cpp calls it.
void one(const QByteArray &input);

// The output is one valid JSON object.
inline void validObject(const QByteArray &out, const char *what)
{
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(out, &pe);
    check(pe.error == QJsonParseError::NoError && doc.isObject(), what, pe.errorString(), out);
}

// Frames `input` as an upstream SSE byte stream (cut into pieces whose sizes come from the input
// itself), feeds every event to `t` and ends with finish() or, when the input says so, fail().
// Returns everything sent to the client; each feed must return whole events.
inline QByteArray feedStream(gh::StreamTranslator &t, const QByteArray &input)
{
    gh::SseFramer framer;
    QByteArray out;
    const qsizetype step = input.isEmpty() ? 1 : 1 + (uint8_t(input.at(0)) % 64);
    for (qsizetype pos = 0; pos < input.size(); pos += step) {
        framer.feed(QByteArrayView(input).sliced(pos, qMin(step, input.size() - pos)), [&](QByteArrayView raw) {
            const QByteArray piece = t.feed(gh::SseFramer::eventName(raw), gh::SseFramer::eventData(raw));
            check(piece.isEmpty() || piece.endsWith("\n\n"), "feed returns whole events", {}, piece);
            out += piece;
        });
    }
    const bool broken = !input.isEmpty() && (uint8_t(input.at(input.size() - 1)) & 1) && !framer.pending().isEmpty();
    out += broken ? t.fail(502, QStringLiteral("upstream connection reset")) : t.finish();
    check(t.ended(), "the client stream is closed at the end");
    check(t.finish().isEmpty() && t.fail(500, QStringLiteral("x")).isEmpty(), "closed only once");
    const gh::Usage u = t.usage();
    check(u.inputTokens >= 0 && u.cacheReadTokens >= 0 && u.cacheWriteTokens >= 0 && u.outputTokens >= 0,
        "usage is not negative");
    check(!t.sawError() || !t.errorMessage().isEmpty(), "an in-stream error has a message");
    return out;
}

} // namespace fuzz
