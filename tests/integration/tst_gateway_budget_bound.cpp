// Budgets whose reservation is an upper bound of what a provider can bill, over real sockets: the
// gateway process against mock_upstream.
//  - Clamp: a request whose worst case does not fit what remains, but whose key's min_output_tokens
//    does, goes out with a lower output limit; only that field's bytes change (or one is added at the
//    end of the object), thinking.budget_tokens stays below it, the response and the log say so.
//  - Refusals: "exhausted" only when the spend reached the limit; otherwise "too large, by $X";
//    on_short_budget "refuse"; a thinking budget that cannot fit.
//  - A provider that bills the most its rules allow (mock "max-bill": input = body bytes, output =
//    the output limit, streams that run past it), with cut streams on either side and 200 concurrent
//    requests: the key's spend never passes its limit, and no request costs more than it reserved.
#include "gatewaytestkit.h"
#include "providerstestkit.h"
#include "requestlogdb.h"
#include "testsupport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

#include <latch>
#include <thread>
#include <vector>

using namespace gh::test;
using gh::test::providers::anthropicErrorMessage;
using gh::test::providers::anthropicErrorProblem;
using gh::test::providers::provider;

namespace {

// USD per million tokens: an input token costs 1,000 nano-dollars, an output token 10,000.
constexpr double kInputPrice = 1.0;
constexpr double kOutputPrice = 10.0;
constexpr qint64 kInputNano = 1'000;
constexpr qint64 kOutputNano = 10'000;
constexpr qint64 kLimitNano = 50'000'000; // $0.05
constexpr double kLimitUsd = 0.05;
// The reservation's input: one token per body byte, plus 48 bytes of room for an added output-limit
// field and 16 tokens of per-request overhead (budget/reservation.h).
constexpr qint64 kBoundExtra = 64;

// The cheap models of the concurrency run: input $0.5/M, output $2/M.
constexpr double kCheapInput = 0.5;
constexpr double kCheapOutput = 2.0;

const QByteArray kClampChat = "gk-itest-bound-clamp-chat";
const QByteArray kClampAdd = "gk-itest-bound-clamp-add";
const QByteArray kClampThinking = "gk-itest-bound-clamp-think";
const QByteArray kTight = "gk-itest-bound-tight-0001";
const QByteArray kRefuser = "gk-itest-bound-refuse-001";
const QByteArray kSpent = "gk-itest-bound-spent-0001";
const QByteArray kCutter = "gk-itest-bound-cutter-001";
const QByteArray kMaxBill = "gk-itest-bound-maxbill-01";
const QByteArray kLied = "gk-itest-bound-lied-to-01";

// {"model":M,"max_tokens":N,"messages":[{"role":"user","content":"xxx…"}]} padded to `size` bytes.
QByteArray bodyOfSize(const QString &model, qint64 maxTokens, qint64 size, bool stream = false)
{
    const QByteArray head = "{\"model\":\"" + model.toUtf8() + "\",\"max_tokens\":" + QByteArray::number(maxTokens)
        + (stream ? ",\"stream\":true,\"stream_options\":{\"include_usage\":true}" : "")
        + ",\"messages\":[{\"role\":\"user\",\"content\":\"";
    const QByteArray tail = "\"}]}";
    const qint64 pad = size - head.size() - tail.size();
    if (pad < 1)
        return {};
    return head + QByteArray(pad, 'x') + tail;
}

// The largest output limit whose worst case fits `remaining` nano-dollars.
qint64 fits(qint64 remainingNano, qint64 bodyBytes, qint64 inputNano = kInputNano, qint64 outputNano = kOutputNano)
{
    return (remainingNano - (bodyBytes + kBoundExtra) * inputNano) / outputNano;
}

QJsonObject key(const QString &name, const QByteArray &secret, double dayUsd, const QJsonObject &extra = {})
{
    QJsonObject k = testKey(name, QString::fromLatin1(secret), {}, QJsonObject{{QStringLiteral("day_usd"), dayUsd}});
    for (auto it = extra.begin(); it != extra.end(); ++it)
        k.insert(it.key(), it.value());
    return k;
}

QByteArray recordedBody(const QJsonObject &recorded)
{
    return recorded.value(QStringLiteral("body")).toString().toUtf8();
}

double spentUsd(const QJsonObject &keyInfo)
{
    return keyInfo.value(QStringLiteral("spend")).toObject().value(QStringLiteral("day_usd")).toDouble();
}

int overshootCount(const QJsonObject &keyInfo)
{
    return keyInfo.value(QStringLiteral("overshoots")).toObject().value(QStringLiteral("count")).toInt(-1);
}

} // namespace

class TestGatewayBudgetBound : public QObject
{
    Q_OBJECT

    GatewayHarness m_h;

    HttpResponse post(const char *path, const QByteArray &body, const QByteArray &secret, const RequestOptions &options = {})
    {
        HttpClient client(m_h.gateway->port());
        Headers headers = bearer(secret);
        if (QByteArrayView(path) == "/v1/messages")
            headers.append(std::pair<QByteArray, QByteArray>("anthropic-version", "2023-06-01"));
        return client.post(path, body, headers, options);
    }

    QJsonObject keyInfo(const QByteArray &secret)
    {
        HttpClient client(m_h.gateway->port());
        return client.get("/v1/key", bearer(secret)).json();
    }

    static QString attemptNotes(const LoggedRequest &row)
    {
        QStringList notes;
        for (const LoggedAttempt &a : row.attemptLog)
            notes.append(a.error);
        return notes.join(QLatin1Char('|'));
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(m_h.startMock(), qPrintable(m_h.error));
        const QString mock = QStringLiteral("mock");
        const QString anth = QStringLiteral("anth");
        // Body sizes the limits below are computed from.
        const QJsonObject config{
            {QStringLiteral("providers"),
                QJsonArray{mockProvider(*m_h.mock), provider(*m_h.mock, anth, QStringLiteral("anthropic"))}},
            {QStringLiteral("models"),
                QJsonArray{
                    mockModel(QStringLiteral("mock/clamp"), mock, QStringLiteral("ok@p=10,c=5"), kInputPrice, kOutputPrice),
                    mockModel(QStringLiteral("mock/clampmax"), mock, QStringLiteral("ok@p=10,c=5"), kInputPrice, kOutputPrice,
                        std::nullopt, 32000),
                    mockModel(QStringLiteral("anth/clamp"), anth, QStringLiteral("ok@p=10,c=5"), kInputPrice, kOutputPrice),
                    mockModel(QStringLiteral("mock/exact"), mock, QStringLiteral("ok@p=204,c=100"), kInputPrice, kOutputPrice),
                    mockModel(QStringLiteral("mock/max"), mock, QStringLiteral("max-bill"), kCheapInput, kCheapOutput),
                    mockModel(QStringLiteral("mock/maxlong"), mock, QStringLiteral("max-bill@chunks=50,pad=2000,delay=20"), kCheapInput,
                        kCheapOutput),
                    // A provider that bills 5,000 output tokens whatever max_tokens says: what no
                    // provider's rules allow, so the only way to see an overshoot.
                    mockModel(QStringLiteral("mock/liar"), mock, QStringLiteral("ok@p=10,c=5000"), kInputPrice, kOutputPrice),
                    mockModel(QStringLiteral("mock/cut"), mock, QStringLiteral("reset-mid-stream@after=20,pad=400"), kCheapInput,
                        kCheapOutput),
                }},
            {QStringLiteral("keys"),
                QJsonArray{key(QStringLiteral("clamp-chat"), kClampChat, kLimitUsd),
                    key(QStringLiteral("clamp-add"), kClampAdd, kLimitUsd),
                    key(QStringLiteral("clamp-thinking"), kClampThinking, kLimitUsd),
                    // fits() of the thinking body below is 800 tokens: above min_output_tokens, below
                    // Anthropic's smallest thinking budget.
                    key(QStringLiteral("tight"), kTight, double(kTightLimitNano) / 1e9,
                        QJsonObject{{QStringLiteral("min_output_tokens"), 100}}),
                    key(QStringLiteral("refuser"), kRefuser, kLimitUsd,
                        QJsonObject{{QStringLiteral("on_short_budget"), QStringLiteral("refuse")}}),
                    key(QStringLiteral("spent"), kSpent, 0.001204), // see spentMeansExhausted
                    key(QStringLiteral("cutter"), kCutter, kLimitUsd),
                    key(QStringLiteral("maxbill"), kMaxBill, kLimitUsd),
                    key(QStringLiteral("lied-to"), kLied, kLimitUsd)}},
        };
        QVERIFY2(m_h.startGateway(config), qPrintable(m_h.error));
        QVERIFY(m_h.mock->reset());
    }

    void cleanupTestCase() { QVERIFY2(m_h.stop(), qPrintable(m_h.error)); }

    // max_tokens 32000 on a $0.05 key: 200 + 64 input tokens ($0.000264) + 32000 output ($0.32) do
    // not fit; 4973 output tokens do (the upstream body is a byte longer: 265 input tokens, still
    // 4973). Only the digits of max_tokens change on the way upstream.
    void clampLowersMaxTokensByteForByte()
    {
        const QByteArray body = bodyOfSize(QStringLiteral("mock/clamp"), 32000, 200);
        const qint64 expectedLimit = fits(kLimitNano, 200);
        QCOMPARE(expectedLimit, 4973);
        const HttpResponse r = post("/v1/chat/completions", body, kClampChat);
        QVERIFY2(r.status == 200, qPrintable(r.describe()));
        QCOMPARE(r.header("x-gatehouse-max-tokens-clamped"), QByteArray("32000->4973"));

        QByteArray expected = body;
        expected.replace("\"model\":\"mock/clamp\"", "\"model\":\"ok@p=10,c=5\"");
        expected.replace("\"max_tokens\":32000", "\"max_tokens\":4973");
        QCOMPARE(recordedBody(m_h.mock->lastRequest()), expected);

        const auto row = m_h.db->waitFor(QString::fromLatin1(r.header("x-gatehouse-request-id")));
        QVERIFY2(row, qPrintable(m_h.db->errorString()));
        QVERIFY2(attemptNotes(*row).contains(QLatin1String("max_tokens clamped 32000->4973")), qPrintable(row->describe()));
        QVERIFY2(row->costNanoUsd == 10 * kInputNano + 5 * kOutputNano, qPrintable(row->describe()));
        const QJsonObject info = keyInfo(kClampChat);
        QCOMPARE(overshootCount(info), 0);
        QCOMPARE(info.value(QStringLiteral("on_short_budget")).toString(), QStringLiteral("clamp"));
        QCOMPARE(info.value(QStringLiteral("min_output_tokens")).toInt(), 1024);
    }

    // No output limit in the request: the model's max output (32000) is the worst case; the clamp
    // adds the field at the end of the top-level object and changes nothing else.
    void clampAddsTheFieldWhenAbsent()
    {
        const QByteArray body = QJsonDocument(chatRequest(QStringLiteral("mock/clampmax"))).toJson(QJsonDocument::Compact);
        const qint64 expectedLimit = fits(kLimitNano, body.size());
        const HttpResponse r = post("/v1/chat/completions", body, kClampAdd);
        QVERIFY2(r.status == 200, qPrintable(r.describe()));
        QCOMPARE(r.header("x-gatehouse-max-tokens-clamped"), "32000->" + QByteArray::number(expectedLimit));
        QByteArray expected = body;
        expected.replace("\"model\":\"mock/clampmax\"", "\"model\":\"ok@p=10,c=5\"");
        expected.insert(expected.lastIndexOf('}'), ",\"max_tokens\":" + QByteArray::number(expectedLimit));
        QCOMPARE(recordedBody(m_h.mock->lastRequest()), expected);
    }

    // Anthropic thinking: budget_tokens must stay below max_tokens; the clamp lowers it to leave the
    // key's min_output_tokens for the answer.
    void clampKeepsThinkingBudgetBelowTheLimit()
    {
        const QByteArray body = R"({"model":"anth/clamp","max_tokens":32000,"thinking":{"type":"enabled","budget_tokens":20000},)"
                                R"("messages":[{"role":"user","content":"Think, then answer."}]})";
        const qint64 limit = fits(kLimitNano, body.size() + 1); // "ok@p=10,c=5" is a byte longer than "anth/clamp"
        const HttpResponse r = post("/v1/messages", body, kClampThinking);
        QVERIFY2(r.status == 200, qPrintable(r.describe()));
        QCOMPARE(r.header("x-gatehouse-max-tokens-clamped"), "32000->" + QByteArray::number(limit));
        QByteArray expected = body;
        expected.replace("\"model\":\"anth/clamp\"", "\"model\":\"ok@p=10,c=5\"");
        expected.replace("\"max_tokens\":32000", "\"max_tokens\":" + QByteArray::number(limit));
        expected.replace("\"budget_tokens\":20000", "\"budget_tokens\":" + QByteArray::number(limit - 1024));
        QCOMPARE(recordedBody(m_h.mock->lastRequest()), expected);
    }

    // 800 output tokens fit and the key accepts answers that short, but Anthropic's smallest thinking
    // budget (1024) does not fit below them: refused, saying so, and nothing reaches the provider.
    void thinkingThatCannotFitIsRefused()
    {
        QCOMPARE(fits(kTightLimitNano, kThinkingBody.size() + 1), 800);
        const int before = int(m_h.mock->receivedRequests().size());
        const HttpResponse r = post("/v1/messages", kThinkingBody, kTight);
        QCOMPARE(r.status, 402);
        const QString problem = anthropicErrorProblem(r);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        const QString message = anthropicErrorMessage(r);
        QVERIFY2(message.contains(QLatin1String("budget_tokens")), qPrintable(message));
        QVERIFY2(message.contains(QLatin1String("at most 800")), qPrintable(message));
        QCOMPARE(int(m_h.mock->receivedRequests().size()), before);
    }

    // on_short_budget "refuse": no clamp; the message says too large and by how much, not exhausted.
    void refusePolicyRefusesWithTheShortfall()
    {
        const QByteArray body = bodyOfSize(QStringLiteral("mock/clamp"), 32000, 200);
        const HttpResponse r = post("/v1/chat/completions", body, kRefuser);
        QCOMPARE(r.status, 402);
        const QString message = errorMessage(r);
        QVERIFY2(!message.contains(QLatin1String("exhausted")), qPrintable(message));
        QVERIFY2(message.contains(QLatin1String("too large")), qPrintable(message));
        // worst case 264 x $1/M + 32000 x $10/M = $0.320264; $0.05 remains: by $0.270264.
        QVERIFY2(message.contains(QLatin1String("by $0.2703")), qPrintable(message));
        QVERIFY2(message.contains(QLatin1String("at most 4973")), qPrintable(message));
        QVERIFY2(message.contains(QLatin1String("on_short_budget")), qPrintable(message));
        QVERIFY(!r.hasHeader("x-gatehouse-max-tokens-clamped"));
        QCOMPARE(keyInfo(kRefuser).value(QStringLiteral("on_short_budget")).toString(), QStringLiteral("refuse"));
    }

    // A request that costs exactly the limit (the mock bills the whole bound), then one more:
    // now the budget is exhausted, and the message says that word.
    void spentMeansExhausted()
    {
        // The body upstream is 4 bytes longer than the client's ("ok@p=204,c=100" for "mock/exact"): the
        // bound takes the longer one. (140 + 64) x $1/M + 100 x $10/M = $0.001204 = the limit, and
        // the mock bills exactly that (p=204, c=100).
        const HttpResponse first = post("/v1/chat/completions", bodyOfSize(QStringLiteral("mock/exact"), 100, 136), kSpent);
        QVERIFY2(first.status == 200, qPrintable(first.describe()));
        QCOMPARE(first.header("x-gatehouse-cost-usd").toDouble(), 0.001204);
        const HttpResponse second = post("/v1/chat/completions", bodyOfSize(QStringLiteral("mock/exact"), 100, 136), kSpent);
        QCOMPARE(second.status, 402);
        QCOMPARE(errorCode(second), QStringLiteral("budget_exceeded"));
        QVERIFY2(errorMessage(second).contains(QLatin1String("exhausted")), qPrintable(errorMessage(second)));
        QCOMPARE(overshootCount(keyInfo(kSpent)), 0);
    }

    // The $1.45-on-a-$0.05-key bug: an upstream that keeps streaming far past max_tokens 100 and a
    // client that leaves. The estimate is capped by the output limit (and the reservation).
    void cutStreamEstimateIsCappedByTheOutputLimit()
    {
        RequestOptions options;
        options.disconnectAfterBodyBytes = 40'000; // about 13,000 tokens' worth of bytes, 20 of 50 events
        const QByteArray body = bodyOfSize(QStringLiteral("mock/maxlong"), 100, 300, true);
        const HttpResponse r = post("/v1/chat/completions", body, kCutter, options);
        QVERIFY2(r.aborted && r.status == 200, qPrintable(r.describe()));
        const auto row = m_h.db->waitFor(QString::fromLatin1(r.header("x-gatehouse-request-id")));
        QVERIFY2(row, qPrintable(m_h.db->errorString()));
        QCOMPARE(row->status, 499);
        QVERIFY(row->estimated);
        QVERIFY2(row->outputTokens <= 100, qPrintable(row->describe()));
        // The upstream body is longer: include_usage is forced on, and "max-bill@..." is longer than "mock/maxlong".
        const qint64 upstreamBytes = recordedBody(m_h.mock->lastRequest()).size();
        const qint64 reservation = (qMax<qint64>(300, upstreamBytes) + kBoundExtra) * 500 + 100 * 2'000;
        QVERIFY2(row->costNanoUsd && *row->costNanoUsd <= reservation, qPrintable(row->describe()));
        const QJsonObject info = keyInfo(kCutter);
        QVERIFY2(spentUsd(info) <= double(reservation) / 1e9 + 1e-12, qPrintable(QString::number(spentUsd(info))));
        QCOMPARE(overshootCount(info), 0);
    }

    // 200 concurrent requests on a $0.05 key against a provider that bills the most its rules allow:
    // streamed and not, cut by the client or by the upstream, max_tokens from 200 to 3,200 (clamped
    // when they do not fit). The spend never passes the limit and nothing costs more than reserved.
    void maximalBillingUnderConcurrencyNeverOverspends()
    {
        constexpr int kRequests = 200;
        const int rowsBefore = m_h.db->count();
        std::vector<HttpResponse> responses(kRequests);
        std::latch ready(kRequests + 1);
        std::vector<std::thread> threads;
        const quint16 port = m_h.gateway->port();
        for (int i = 0; i < kRequests; ++i) {
            threads.emplace_back([&, i] {
                const int kind = i % 4;
                const qint64 maxTokens = 200 + (qint64(i) * 37) % 3000;
                const QString model = kind == 3 ? QStringLiteral("mock/cut") : QStringLiteral("mock/max");
                const QByteArray body = bodyOfSize(model, maxTokens, 300 + (i % 7) * 50, kind != 2);
                RequestOptions options;
                options.timeoutMs = 60000;
                if (kind == 0)
                    options.disconnectAfterBodyBytes = 300;
                HttpClient client(port);
                ready.arrive_and_wait();
                responses[size_t(i)] = client.post("/v1/chat/completions", body, bearer(kMaxBill), options);
            });
        }
        ready.arrive_and_wait();
        for (std::thread &t : threads)
            t.join();

        int served = 0;
        int refused = 0;
        int clamped = 0;
        for (const HttpResponse &r : responses) {
            if (r.status == 200) {
                ++served;
                clamped += r.hasHeader("x-gatehouse-max-tokens-clamped");
            } else if (r.status == 402) {
                ++refused;
                QCOMPARE(errorCode(r), QStringLiteral("budget_exceeded"));
            } else {
                QFAIL(qPrintable(QStringLiteral("unexpected response: ") + r.describe()));
            }
        }
        QVERIFY(served > 0);
        QVERIFY(refused > 0);

        const QList<LoggedRequest> all = m_h.db->waitForCount(rowsBefore + kRequests, 15000);
        QList<LoggedRequest> rows;
        for (const LoggedRequest &row : all) {
            if (row.keyName == QLatin1String("maxbill"))
                rows.append(row);
        }
        QVERIFY2(rows.size() == kRequests, qPrintable(QString::number(rows.size()) + m_h.db->errorString()));
        qint64 total = 0;
        for (const LoggedRequest &row : rows) {
            total += row.costNanoUsd.value_or(0);
            QVERIFY2(!attemptNotes(row).contains(QLatin1String("overshoot")), qPrintable(row.describe()));
        }
        QVERIFY2(total <= kLimitNano, qPrintable(QString::number(total)));

        const QJsonObject info = keyInfo(kMaxBill);
        QVERIFY2(spentUsd(info) <= kLimitUsd, qPrintable(QString::number(spentUsd(info), 'g', 12)));
        QCOMPARE(info.value(QStringLiteral("reserved_usd")).toDouble(), 0.0);
        QCOMPARE(overshootCount(info), 0);
        qInfo("max-bill run: %d served (%d clamped), %d refused, spent $%.6f of $%.2f", served, clamped, refused,
            spentUsd(info), kLimitUsd);
    }

    // A provider that bills past the request's output limit: the request is logged with the
    // overshoot, the key's card and /v1/key count it, and the count survives a restart (it is
    // rebuilt from the log). Last: it restarts the gateway.
    void overshootIsLoggedCountedAndKept()
    {
        QCOMPARE(overshootCount(keyInfo(kLied)), 0);
        const HttpResponse r = post("/v1/chat/completions", bodyOfSize(QStringLiteral("mock/liar"), 16, 200), kLied);
        QVERIFY2(r.status == 200, qPrintable(r.describe()));
        const auto row = m_h.db->waitFor(QString::fromLatin1(r.header("x-gatehouse-request-id")));
        QVERIFY2(row, qPrintable(m_h.db->errorString()));
        QVERIFY2(row->costNanoUsd == 10 * kInputNano + 5000 * kOutputNano, qPrintable(row->describe()));
        QVERIFY2(attemptNotes(*row).contains(QLatin1String("overshoot")), qPrintable(row->describe()));
        const std::optional<qint64> logged = m_h.db->overshootOf(row->id);
        QVERIFY2(logged && *logged > 4900 * kOutputNano, qPrintable(m_h.db->errorString()));
        const QJsonObject info = keyInfo(kLied);
        QCOMPARE(overshootCount(info), 1);
        const double usd = info.value(QStringLiteral("overshoots")).toObject().value(QStringLiteral("usd")).toDouble();
        QCOMPARE(qRound64(usd * 1e9), *logged);

        QCOMPARE(m_h.gateway->terminate(), 0);
        QVERIFY2(m_h.gateway->start(), qPrintable(m_h.gateway->stderrText()));
        const QJsonObject after = keyInfo(kLied);
        QCOMPARE(overshootCount(after), 1);
        QCOMPARE(after.value(QStringLiteral("overshoots")).toObject().value(QStringLiteral("usd")).toDouble(), usd);
        QCOMPARE(overshootCount(keyInfo(kMaxBill)), 0);
    }

private:
    // The thinking body of thinkingThatCannotFitIsRefused and the limit that leaves 800 tokens for it.
    static inline const QByteArray kThinkingBody
        = R"({"model":"anth/clamp","max_tokens":32000,"thinking":{"type":"enabled","budget_tokens":20000},)"
          R"("messages":[{"role":"user","content":"Think hard."}]})";
    static inline const qint64 kTightLimitNano = (kThinkingBody.size() + 1 + kBoundExtra) * kInputNano + 800 * kOutputNano + 5'000;
};

QTEST_GUILESS_MAIN(TestGatewayBudgetBound)
#include "tst_gateway_budget_bound.moc"
