// The SSE framer: events plus pending bytes always add up to the input, whatever the cut points.
#include "fuzzcommon.h"

void fuzz::one(const QByteArray &input)
{
    const auto size = size_t(input.size());
    gh::SseFramer framer;
    QByteArray seen;
    const qsizetype step = input.isEmpty() ? 1 : 1 + (uint8_t(input.at(0)) % 97);
    for (qsizetype pos = 0; pos < input.size(); pos += step) {
        framer.feed(QByteArrayView(input).sliced(pos, qMin(step, input.size() - pos)), [&](QByteArrayView raw) {
            fuzz::check(!raw.isEmpty(), "an event is not empty");
            seen.append(raw.data(), raw.size());
            (void)gh::SseFramer::eventData(raw);
            (void)gh::SseFramer::eventName(raw);
        });
    }
    fuzz::check(seen + framer.pending() == input, "events and pending bytes add up to the input");
}
