#pragma once
// Shared helpers of the analytics model tests (tst_rankingsmodel, tst_cachemodel).
#include "analyticsmodelbase.h"
#include "uitestfixture.h"

namespace gh::ui::test {

// Waits until the model has no read running or queued and has read once.
inline bool waitIdle(const AnalyticsModelBase &m)
{
    return QTest::qWaitFor([&m] { return m.isIdle() && m.ready(); }, 5000);
}

// The first row whose `role` is `value`; -1 when none.
inline int rowOf(const QAbstractItemModel &m, int role, const QString &value)
{
    for (int r = 0; r < m.rowCount(); ++r) {
        if (m.data(m.index(r, 0), role).toString() == value)
            return r;
    }
    return -1;
}

// A model "provider/upstream" with prices in USD per million tokens.
inline ModelConfig pricedModel(const QString &id, double input, double output, std::optional<double> cacheRead = {})
{
    ModelConfig m;
    m.id = id;
    m.provider = id.section(QLatin1Char('/'), 0, 0);
    m.upstreamModel = id.section(QLatin1Char('/'), 1);
    m.price.input = input;
    m.price.output = output;
    m.price.cacheRead = cacheRead;
    return m;
}

// What both tests share: the fixture, the clock fixed at Wednesday 2025-03-12 15:00 local time,
// and the models their logs use.
class AnalyticsTest : public QObject
{
protected:
    UiFixture m_fx;
    const qint64 m_now = at(2025, 3, 12, 15);
    const QString m_gpt = QStringLiteral("openai/gpt-4.1");
    const QString m_mini = QStringLiteral("openai/gpt-4.1-mini");
    const QString m_claude = QStringLiteral("anthropic/claude-sonnet-4");
};

} // namespace gh::ui::test
