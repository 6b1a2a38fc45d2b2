#pragma once

#include <QByteArray>
#include <QtGlobal>

// The `chaos@fail=F,seed=S` behaviour: which fault (if any) the n-th request of a model gets.
// Pure and deterministic: the same seed and index always give the same draw.
namespace gh::mock {

// What a chaos draw turns a request into.
struct ChaosDraw {
    QByteArray behaviour; // "ok", "fail-500", "fail-502", "fail-503", "fail-504", "fail-529",
                          // "fail-429" (Retry-After: 0), "fail-408", "reset-before",
                          // "error-in-stream" (the first event of the stream is the error; streams only)
    qint64 retryAfter = -1; // >= 0: the Retry-After header to send (fail-429: 0)
};

// The draw for request `index` (0-based, per model) with failure probability `fail` (clamped to
// [0, 1]): with probability `fail` one fault chosen uniformly from the list above (the stream error
// only when `stream`), else "ok".
[[nodiscard]] ChaosDraw chaosDraw(quint64 seed, quint64 index, double fail, bool stream);

} // namespace gh::mock
