// Budgets over HTTP: 60 concurrent requests against a key whose day limit admits exactly 6 of
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

// Prices in USD per million tokens, and a request of exactly kBodyBytes bytes. The reservation's
// input is an upper bound: one token per byte of the longer of the client's body and the one sent
// upstream (the model ids below are exactly as long as their upstream names, so both are the same
// size), plus 48 bytes of room for an output-limit field a clamp may add and 16 tokens of
// per-request overhead (budget/reservation.h): 136 + 64 = 200 tokens. So the worst case of a request
// with max_tokens 150 is
//   200 × $30/M + 150 × $60/M = $0.006 + $0.009 = $0.015,
// and a $0.10 day limit admits floor(0.10 / 0.015) = 6 of them. The mock bills exactly that
// (p=200, c=150), so each settled request costs what was reserved and the count does not depend on
// the order in which requests finish.
constexpr double kInputPrice = 30.0;
constexpr double kOutputPrice = 60.0;
constexpr qint64 kBodyBytes = 136;
constexpr qint64 kInputBound = kBodyBytes + 64;
constexpr qint64 kMaxTokens = 150;
constexpr double kDayLimit = 0.10;
constexpr qint64 kWorstCaseNano = qint64(kInputBound * kInputPrice * 1000 + kMaxTokens * kOutputPrice * 1000);
constexpr qint64 kLimitNano = 100'000'000;
constexpr int kConcurrent = 60;
constexpr int kAdmitted = int(kLimitNano / kWorstCaseNano);
static_assert(kInputBound == 200 && kWorstCaseNano == 15'000'000 && kAdmitted == 6);
// Model ids as long as their upstream names (34 and 11 characters).
const QString kSlowModel = QStringLiteral("mock/budget-slow-headers-delay-300");
const QString kSlowUpstream = QStringLiteral("slow-headers@delay=300,p=200,c=150");
const QString kOneModel = QStringLiteral("mock/budget");
const QString kOneUpstream = QStringLiteral("ok@p=30,c=1");

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
                    mockModel(kSlowModel, mock, kSlowUpstream, kInputPrice, kOutputPrice),
                    mockModel(kOneModel, mock, kOneUpstream, kInputPrice, kOutputPrice),
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
        QCOMPARE(kSlowModel.size(), kSlowUpstream.size());
        QCOMPARE(kOneModel.size(), kOneUpstream.size());
        const QByteArray body = bodyOfSize(kSlowModel, kMaxTokens, kBodyBytes);
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
        QVERIFY2(qAbs(spent - 0.09) < 1e-9, qPrintable(QString::number(spent, 'g', 12)));
        QVERIFY2(qAbs(remaining - 0.01) < 1e-9, qPrintable(QString::number(remaining, 'g', 12)));
        QCOMPARE(key.value(QStringLiteral("reserved_usd")).toDouble(), 0.0);
        QCOMPARE(key.value(QStringLiteral("overshoots")).toObject().value(QStringLiteral("count")).toInt(), 0);
    }

    // $0.01 remains. The refusal says the request is too large (not that the budget is exhausted),
    // by how much, names max_tokens, and its advice works.
    void refusalMessageAndSmallerMaxTokens()
    {
        const HttpResponse refused = chat(bodyOfSize(kSlowModel, kMaxTokens, kBodyBytes));
        QCOMPARE(refused.status, 402);
        const QString problem = openAIErrorProblem(refused);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        const QString message = errorMessage(refused);
        QVERIFY2(!message.contains(QLatin1String("exhausted")), qPrintable(message)); // the limit is not spent
        QVERIFY2(message.contains(QLatin1String("too large")), qPrintable(message));
        QVERIFY2(message.contains(QLatin1String("by $0.005000")), qPrintable(message)); // $0.015 - $0.01
        QVERIFY2(message.contains(QLatin1String("$0.0100 remains")), qPrintable(message));
        QVERIFY2(message.contains(QLatin1String("$0.0150")), qPrintable(message)); // the worst case
        QVERIFY2(message.contains(QLatin1String("max_tokens")), qPrintable(message));
        // (0.01 - 200 × $30/M) / ($60/M) = 66.7: max_tokens 66 fits. 150 is below the key's
        // min_output_tokens (1024), so it is refused rather than clamped, and the message says why.
        QVERIFY2(message.contains(QLatin1String("at most 66 would fit")), qPrintable(message));
        QVERIFY2(message.contains(QLatin1String("min_output_tokens (1024)")), qPrintable(message));

        // 200 × $30/M + 66 × $60/M = $0.00996 <= $0.01; the mock bills p=30, c=1: $0.00096.
        const HttpResponse fits = chat(bodyOfSize(kOneModel, 66, kBodyBytes));
        QVERIFY2(fits.status == 200, qPrintable(fits.describe()));
        QVERIFY(!fits.hasHeader("x-gatehouse-max-tokens-clamped"));
        QVERIFY(qAbs(fits.header("x-gatehouse-cost-usd").toDouble() - 0.00096) < 1e-12);

        // $0.00904 left: the same request no longer fits (200 × $30/M + 66 × $60/M = $0.00996);
        // max_tokens 50 would ($0.009).
        const HttpResponse again = chat(bodyOfSize(kOneModel, 66, kBodyBytes));
        QCOMPARE(again.status, 402);
        QVERIFY2(errorMessage(again).contains(QLatin1String("at most 50 would fit")), qPrintable(errorMessage(again)));
        QVERIFY2(!errorMessage(again).contains(QLatin1String("exhausted")), qPrintable(errorMessage(again)));

        const QJsonObject key = keyInfo();
        const double spent = key.value(QStringLiteral("spend")).toObject().value(QStringLiteral("day_usd")).toDouble();
        QVERIFY2(qAbs(spent - 0.09096) < 1e-9, qPrintable(QString::number(spent, 'g', 12)));
        QVERIFY(spent <= kDayLimit);
    }

    // A key with limits refuses a model whose price nobody knows: its cost could not be counted.
    void unpricedModelRefusedForKeyWithLimits()
    {
        const HttpResponse r = chat(
            QJsonDocument(chatRequest(QStringLiteral("mock/not-in-any-catalog"))).toJson(QJsonDocument::Compact));
        // 402 with what to do, never 401/403: clients show those as "failed to authenticate".
        QCOMPARE(r.status, 402);
        const QString problem = openAIErrorProblem(r);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        QCOMPARE(errorCode(r), QStringLiteral("model_unpriced"));
        QVERIFY2(errorMessage(r).contains(QLatin1String("Set a price")), qPrintable(errorMessage(r)));
    }
};

QTEST_GUILESS_MAIN(TestGatewayBudget)
#include "tst_gateway_budget.moc"
