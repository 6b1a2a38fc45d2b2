// Two stream translators in a row (e.g. Gemini -> OpenAI -> Anthropic).
#include "formats/common/translate.h"
#include <QList>

namespace gh {

namespace {

class Chain final : public StreamTranslator
{
public:
    Chain(std::unique_ptr<StreamTranslator> first, std::unique_ptr<StreamTranslator> second)
        : m_first(std::move(first))
        , m_second(std::move(second))
    { }
    QByteArray feed(QByteArrayView eventName, QByteArrayView data) override
    {
        return pipe(m_first->feed(eventName, data));
    }
    QByteArray finish() override
    {
        QByteArray out = pipe(m_first->finish());
        return out + m_second->finish();
    }
    QByteArray fail(int status, const QString &message) override { return m_second->fail(status, message); }
    [[nodiscard]] bool sawError() const override { return m_first->sawError() || m_second->sawError(); }
    [[nodiscard]] QString errorMessage() const override
    {
        return m_first->sawError() ? m_first->errorMessage() : m_second->errorMessage();
    }
    [[nodiscard]] bool ended() const override { return m_second->ended(); }
    [[nodiscard]] Usage usage() const override { return m_first->usage(); }

private:
    // The first translator's own output: whole events separated by blank lines.
    QByteArray pipe(const QByteArray &events)
    {
        QByteArray out;
        for (const QByteArray &event : splitEvents(events)) {
            QByteArray name;
            QByteArray data;
            for (const QByteArray &line : event.split('\n')) {
                if (line.startsWith("event: "))
                    name = line.mid(7);
                else if (line.startsWith("data: "))
                    data += (data.isEmpty() ? QByteArray() : QByteArray("\n")) + line.mid(6);
            }
            out += m_second->feed(name, data);
        }
        return out;
    }
    static QList<QByteArray> splitEvents(const QByteArray &events)
    {
        QList<QByteArray> list;
        qsizetype pos = 0;
        while (pos < events.size()) {
            const qsizetype end = events.indexOf("\n\n", pos);
            if (end < 0) {
                list.append(events.mid(pos));
                break;
            }
            list.append(events.mid(pos, end - pos));
            pos = end + 2;
        }
        return list;
    }

    std::unique_ptr<StreamTranslator> m_first;
    std::unique_ptr<StreamTranslator> m_second;
};

} // namespace

std::unique_ptr<StreamTranslator> chainStreams(
    std::unique_ptr<StreamTranslator> first, std::unique_ptr<StreamTranslator> second)
{
    return std::make_unique<Chain>(std::move(first), std::move(second));
}

} // namespace gh
