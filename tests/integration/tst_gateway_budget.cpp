// Budgets over HTTP: 60 concurrent requests against a key whose day limit admits exactly 10 of
// them, then the 402 refusal's message, a smaller max_tokens that fits, and the request log's total.
#include "gatewaytestkit.h"
#include "requestlogdb.h"
#include "testsupport.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

#include <latch>
#include <memory>
#include <thread>
#include <vector>

using namespace gh::test;

namespace {

const QByteArray kSmallSecret = "gk-itest-small-0001";

// Prices in USD per million tokens, and a request of exactly kBodyBytes bytes: the gateway
// estimates ceil(90 / 3) = 30 input tokens, so the worst case of a request with max_tokens 150 is
//   30 × $30/M + 150 × $60/M = $0.0009 + $0.009 = $0.0099,
// and a $0.10 day limit admits floor(0.10 / 0.0099) = 10 of them. The mock bills exactly that
// (p=30, c=150), so each settled request costs what was reserved and the count does not depend on
// the order in which requests finish.
constexpr double kInputPrice = 30.0;
constexpr double kOutputPrice = 60.0;
constexpr qint64 kBodyBytes = 90;
constexpr qint64 kEstimatedInput = 30;
constexpr qint64 kMaxTokens = 150;
constexpr double kDayLimit = 0.10;
constexpr qint64 kWorstCaseNano = qint64(kEstimatedInput * kInputPrice * 1000 + kMaxTokens * kOutputPrice * 1000);
constexpr qint64 kLimitNano = 100'000'000;
constexpr int kConcurrent = 60;
constexpr int kAdmitted = int(kLimitNano / kWorstCaseNano);
static_assert(kWorstCaseNano == 9'900'000 && kAdmitted == 10);

// {"model":M,"max_tokens":N,"messages":[{"role":"user","content":"xxx…"}]} padded to `size` bytes.
QByteArray bodyOfSize(const QString &model, qint64 maxTokens, qint64 size)
{
    const QByteArray head = "{\"model\":\"" + model.toUtf8() + "\",\"max_tokens\":" + QByteArray::number(maxTokens)
        + ",\"messages\":[{\"role\":\"user\",\"content\":\"";
    const QByteArray tail = "\"}]}";
    const qint64 pad = size - head.size() - tail.size();
    if (pad < 1)
        return {};
    return head + QByteArray(pad, 'x') + tail;
}

} // namespace

class TestGatewayBudget : public QObject
{
    Q_OBJECT

    GatewayHarness m_h;

    HttpResponse chat(const QByteArray &body)
    {
        HttpClient client(m_h.gateway->port());
        return client.post("/v1/chat/completions", body, bearer(kSmallSecret));
    }

    QJsonObject keyInfo()
    {
        HttpClient client(m_h.gateway->port());
        return client.get("/v1/key", bearer(kSmallSecret)).json();
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(m_h.startMock(), qPrintable(m_h.error));
        const QString mock = QStringLiteral("mock");
        const QJsonObject config{
            {QStringLiteral("providers"), QJsonArray{mockProvider(*m_h.mock)}},
            {QStringLiteral("models"),
                QJsonArray{
                    // The upstream holds each answer for 300 ms so the admitted requests overlap.
                    mockModel(QStringLiteral("mock/budget"), mock, QStringLiteral("slow-headers@delay=300,p=30,c=150"),
                        kInputPrice, kOutputPrice),
                    mockModel(
                        QStringLiteral("mock/budget1"), mock, QStringLiteral("ok@p=30,c=1"), kInputPrice, kOutputPrice),
                }},
            {QStringLiteral("keys"),
                QJsonArray{testKey(QStringLiteral("small"), QString::fromLatin1(kSmallSecret), {},
                    QJsonObject{{QStringLiteral("day_usd"), kDayLimit}})}},
        };
        QVERIFY2(m_h.startGateway(config), qPrintable(m_h.error));
        QVERIFY(m_h.mock->reset());
    }

    void cleanupTestCase()
    {
        QVERIFY2(m_h.stop(), qPrintable(m_h.error));
    }

    void concurrentRequestsNeverOverspend()
    {
        const QByteArray body = bodyOfSize(QStringLiteral("mock/budget"), kMaxTokens, kBodyBytes);
        QCOMPARE(body.size(), kBodyBytes);

        std::vector<HttpResponse> responses(kConcurrent);
        std::latch ready(kConcurrent + 1);
        std::vector<std::thread> threads;
        const quint16 port = m_h.gateway->port();
        for (int i = 0; i < kConcurrent; ++i) {
            threads.emplace_back([&, i] {
                HttpClient client(port);
                RequestOptions options;
                options.timeoutMs = 30000;
                ready.arrive_and_wait(); // every thread sends at the same moment
                responses[size_t(i)] = client.post("/v1/chat/completions", body, bearer(kSmallSecret), options);
            });
        }
        QElapsedTimer wall;
        ready.arrive_and_wait();
        wall.start();
        for (std::thread &t : threads)
            t.join();
        // The admitted requests overlapped (each takes 300 ms upstream): the reservations really
        // were taken concurrently, not one after another.
        QVERIFY2(wall.elapsed() < kAdmitted * 300 * 3 / 4, qPrintable(QString::number(wall.elapsed())));

        int admitted = 0;
        int refused = 0;
        for (const HttpResponse &r : responses) {
            if (r.status == 200) {
                ++admitted;
                QCOMPARE(r.header("x-gatehouse-cost-usd").toDouble(), double(kWorstCaseNano) / 1e9);
            } else if (r.status == 402) {
                ++refused;
                const QString problem = openAIErrorProblem(r);
                QVERIFY2(problem.isEmpty(), qPrintable(problem));
                QCOMPARE(errorCode(r), QStringLiteral("budget_exceeded"));
            } else {
                QFAIL(qPrintable(QStringLiteral("unexpected response: ") + r.describe()));
            }
        }
        QCOMPARE(admitted, kAdmitted);
        QCOMPARE(refused, kConcurrent - kAdmitted);
        // Refused requests never reached the provider.
        QCOMPARE(m_h.mock->receivedRequests().size(), kAdmitted);

        // The log: every request is there, and the total charged fits in the limit.
        const QList<LoggedRequest> rows = m_h.db->waitForCount(kConcurrent);
        QVERIFY2(rows.size() == kConcurrent, qPrintable(m_h.db->errorString()));
        qint64 total = 0;
        int logged200 = 0;
        for (const LoggedRequest &row : rows) {
            total += row.costNanoUsd.value_or(0);
            if (row.status == 200) {
                ++logged200;
                QCOMPARE(*row.costNanoUsd, kWorstCaseNano);
            } else {
                QCOMPARE(row.status, 402);
                QCOMPARE(row.costNanoUsd.value_or(0), 0);
            }
        }
        QCOMPARE(logged200, kAdmitted);
        QVERIFY2(total <= kLimitNano, qPrintable(QString::number(total)));
        QCOMPARE(total, kAdmitted * kWorstCaseNano);

        const QJsonObject key = keyInfo();
        const double spent = key.value(QStringLiteral("spend")).toObject().value(QStringLiteral("day_usd")).toDouble();
        const double remaining
            = key.value(QStringLiteral("remaining")).toObject().value(QStringLiteral("day_usd")).toDouble();
        QVERIFY2(qAbs(spent - 0.099) < 1e-9, qPrintable(QString::number(spent, 'g', 12)));
        QVERIFY2(qAbs(remaining - 0.001) < 1e-9, qPrintable(QString::number(remaining, 'g', 12)));
        QCOMPARE(key.value(QStringLiteral("reserved_usd")).toDouble(), 0.0);
    }

    // $0.001 remains. The refusal says so, names max_tokens, and its advice works.
    void refusalMessageAndSmallerMaxTokens()
    {
        const HttpResponse refused = chat(bodyOfSize(QStringLiteral("mock/budget"), kMaxTokens, kBodyBytes));
        QCOMPARE(refused.status, 402);
        const QString problem = openAIErrorProblem(refused);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        const QString message = errorMessage(refused);
        QVERIFY2(message.contains(QLatin1String("remain")), qPrintable(message));
        QVERIFY2(message.contains(QLatin1String("$0.001")), qPrintable(message)); // what remains
        QVERIFY2(message.contains(QLatin1String("$0.0099")), qPrintable(message)); // the worst case
        QVERIFY2(message.contains(QLatin1String("max_tokens")), qPrintable(message));
        // (0.001 - 30 × $30/M) / ($60/M) = 1.67: max_tokens 1 fits.
        QVERIFY2(message.contains(QLatin1String("at most 1)")), qPrintable(message));

        // 30 × $30/M + 1 × $60/M = $0.00096 <= $0.001
        const HttpResponse fits = chat(bodyOfSize(QStringLiteral("mock/budget1"), 1, kBodyBytes));
        QVERIFY2(fits.status == 200, qPrintable(fits.describe()));
        QVERIFY(qAbs(fits.header("x-gatehouse-cost-usd").toDouble() - 0.00096) < 1e-12);

        // $0.00004 left: not even max_tokens 0 fits the input alone.
        const HttpResponse none = chat(bodyOfSize(QStringLiteral("mock/budget1"), 1, kBodyBytes));
        QCOMPARE(none.status, 402);
        QVERIFY2(errorMessage(none).contains(QLatin1String("max_tokens")), qPrintable(errorMessage(none)));

        const QJsonObject key = keyInfo();
        const double spent = key.value(QStringLiteral("spend")).toObject().value(QStringLiteral("day_usd")).toDouble();
        QVERIFY2(qAbs(spent - 0.09996) < 1e-9, qPrintable(QString::number(spent, 'g', 12)));
        QVERIFY(spent <= kDayLimit);
    }

    // A key with limits refuses a model whose price nobody knows: its cost could not be counted.
    void unpricedModelRefusedForKeyWithLimits()
    {
        const HttpResponse r = chat(
            QJsonDocument(chatRequest(QStringLiteral("mock/not-in-any-catalog"))).toJson(QJsonDocument::Compact));
        QCOMPARE(r.status, 403);
        const QString problem = openAIErrorProblem(r);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        QCOMPARE(errorCode(r), QStringLiteral("model_unpriced"));
    }
};

QTEST_GUILESS_MAIN(TestGatewayBudget)
#include "tst_gateway_budget.moc"
