// The guardrails through the real gateway binary against the mock provider: a scripted agent loop
// (the same failing-test turn every 300 ms) is paused after the expected number of requests, with
// an error each client family stops on, and spend stops rising; resume works; a normal long session
// (a growing conversation with many distinct tool calls and a 429 retry) trips nothing.
#include "gatewaytestkit.h"
#include "requestlogdb.h"
#include "testsupport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>
#include <QThread>

using namespace gh::test;

namespace {

const QByteArray kAgentSecret = "gk-itest-agent-0001";
const QByteArray kClaudeSecret = "gk-itest-claude-0001";
const QByteArray kNormalSecret = "gk-itest-normal-0001";
const QByteArray kStuckSecret = "gk-itest-stuck-0001";
const QByteArray kPersistSecret = "gk-itest-persist-0001";
const QString kModel = QStringLiteral("mock/agent");
const QString kLimited = QStringLiteral("mock/limited");
constexpr int kRepeatCount = 5; // GuardrailThresholds::repeatCount, the documented default

// What pytest prints for one failing test (about 1.3 KB): the tool result an agent stuck on it
// gets back every turn. Together with the task it is over the repetition check's 1 KB floor.
const QString kFailure = QStringLiteral(
    "============================= test session starts ==============================\n"
    "platform linux -- Python 3.11.2, pytest-7.2.1, pluggy-1.0.0\n"
    "rootdir: /home/dev/parser\n"
    "collected 42 items\n\n"
    "tests/test_parser.py ........................................F.            [100%]\n\n"
    "=================================== FAILURES ===================================\n"
    "________________________________ test_roundtrip ________________________________\n\n"
    "    def test_roundtrip():\n"
    "        rows = [[\"a\", \"b\"], [\"c\", \"d\"]]\n"
    "        text = dump(rows, delimiter=\";\")\n"
    ">       assert load(text, delimiter=\";\") == rows\n"
    "E       AssertionError: assert [['a,b'], ['c,d']] == [['a', 'b'], ['c', 'd']]\n"
    "E         At index 0 diff: ['a,b'] != ['a', 'b']\n"
    "E         Full diff:\n"
    "E         - [['a', 'b'], ['c', 'd']]\n"
    "E         + [['a,b'], ['c,d']]\n\n"
    "tests/test_parser.py:88: AssertionError\n"
    "=========================== short test summary info ============================\n"
    "FAILED tests/test_parser.py::test_roundtrip - AssertionError: assert [['a,b'], ['c,d']] == [['a', 'b'], ['c', 'd']]\n"
    "========================= 1 failed, 41 passed in 0.42s =========================\n");

// An OpenAI chat request: the task, then per turn an assistant tool call (a fresh id each time, as
// a model generates them) and its tool result.
QByteArray openAITurns(const QString &model, const QStringList &results, int idSeed)
{
    QJsonArray messages{QJsonObject{{QStringLiteral("role"), QStringLiteral("user")}, {QStringLiteral("content"), QStringLiteral("Make tests/test_parser.py pass.")}}};
    for (int i = 0; i < results.size(); ++i) {
        const QString id = QStringLiteral("call_%1_%2").arg(idSeed).arg(i);
        messages.append(QJsonObject{
            {QStringLiteral("role"), QStringLiteral("assistant")},
            {QStringLiteral("content"), QJsonValue()},
            {QStringLiteral("tool_calls"), QJsonArray{QJsonObject{{QStringLiteral("id"), id}, {QStringLiteral("type"), QStringLiteral("function")},
                                                                   {QStringLiteral("function"), QJsonObject{{QStringLiteral("name"), QStringLiteral("bash")},
                                                                                                            {QStringLiteral("arguments"), QStringLiteral("{\"cmd\":\"step %1\"}").arg(i)}}}}}}});
        messages.append(QJsonObject{{QStringLiteral("role"), QStringLiteral("tool")}, {QStringLiteral("tool_call_id"), id}, {QStringLiteral("content"), results.at(i)}});
    }
    return QJsonDocument(QJsonObject{{QStringLiteral("model"), model}, {QStringLiteral("max_tokens"), 64}, {QStringLiteral("messages"), messages}})
        .toJson(QJsonDocument::Compact);
}

// The Anthropic shape of the loop: Claude Code's tool_use / tool_result blocks with fresh ids and
// its cache breakpoint on the newest block.
QByteArray anthropicLoopTurn(int idSeed)
{
    const QString id = QStringLiteral("toolu_%1").arg(idSeed);
    const QJsonArray messages{
        QJsonObject{{QStringLiteral("role"), QStringLiteral("user")}, {QStringLiteral("content"), QStringLiteral("Make tests/test_parser.py pass.")}},
        QJsonObject{{QStringLiteral("role"), QStringLiteral("assistant")},
                    {QStringLiteral("content"), QJsonArray{QJsonObject{{QStringLiteral("type"), QStringLiteral("tool_use")}, {QStringLiteral("id"), id},
                                                                       {QStringLiteral("name"), QStringLiteral("Bash")},
                                                                       {QStringLiteral("input"), QJsonObject{{QStringLiteral("command"), QStringLiteral("pytest")}}}}}}},
        QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                    {QStringLiteral("content"), QJsonArray{QJsonObject{{QStringLiteral("type"), QStringLiteral("tool_result")}, {QStringLiteral("tool_use_id"), id},
                                                                       {QStringLiteral("content"), kFailure},
                                                                       {QStringLiteral("cache_control"), QJsonObject{{QStringLiteral("type"), QStringLiteral("ephemeral")}}}}}}}};
    return QJsonDocument(QJsonObject{{QStringLiteral("model"), kModel}, {QStringLiteral("max_tokens"), 64}, {QStringLiteral("messages"), messages}})
        .toJson(QJsonDocument::Compact);
}

} // namespace

class TestGatewayGuardrails : public QObject
{
    Q_OBJECT

    GatewayHarness m_h;

    HttpResponse chat(const QByteArray &secret, const QByteArray &body)
    {
        HttpClient client(m_h.gateway->port());
        return client.post("/v1/chat/completions", body, bearer(secret));
    }

    QJsonObject keyInfo(const QByteArray &secret)
    {
        HttpClient client(m_h.gateway->port());
        return client.get("/v1/key", bearer(secret)).json();
    }

    static double daySpend(const QJsonObject &info)
    {
        return info.value(QLatin1String("spend")).toObject().value(QLatin1String("day_usd")).toDouble();
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(m_h.startMock(), qPrintable(m_h.error));
        const QString mock = QStringLiteral("mock");
        QJsonObject claude = testKey(QStringLiteral("claude"), QString::fromLatin1(kClaudeSecret));
        // Explicitly what the defaults are, to prove the config path end to end.
        claude.insert(QStringLiteral("guardrails"), QJsonObject{{QStringLiteral("repetition"), QStringLiteral("pause")},
                                                                {QStringLiteral("velocity"), QStringLiteral("alert")}});
        const QJsonObject config{
            {QStringLiteral("providers"), QJsonArray{mockProvider(*m_h.mock)}},
            {QStringLiteral("models"), QJsonArray{mockModel(kModel, mock, QStringLiteral("ok@p=2000,c=20"), 3.0, 15.0),
                                                  mockModel(kLimited, mock, QStringLiteral("fail-429"), 3.0, 15.0)}},
            {QStringLiteral("keys"), QJsonArray{testKey(QStringLiteral("agent"), QString::fromLatin1(kAgentSecret), {}, QJsonObject{{QStringLiteral("day_usd"), 50.0}}),
                                                claude, testKey(QStringLiteral("normal"), QString::fromLatin1(kNormalSecret)),
                                                testKey(QStringLiteral("stuck"), QString::fromLatin1(kStuckSecret)),
                                                testKey(QStringLiteral("persist"), QString::fromLatin1(kPersistSecret))}},
        };
        QVERIFY2(m_h.startGateway(config), qPrintable(m_h.error));
        QVERIFY(m_h.mock->reset());
    }

    void cleanupTestCase()
    {
        QVERIFY2(m_h.stop(), qPrintable(m_h.error));
    }

    void agentLoopIsPausedAndSpendStops()
    {
        const qint64 before = m_h.mock->requestCount(QStringLiteral("ok@p=2000,c=20"));
        int refusedAt = -1;
        HttpResponse refusal;
        QStringList ids;
        QElapsedTimer clock;
        clock.start();
        for (int i = 0; i < 12; ++i) {
            const HttpResponse r = chat(kAgentSecret, openAITurns(kModel, {kFailure}, i));
            ids.append(QString::fromLatin1(r.headers.value("x-gatehouse-request-id")));
            if (r.status != 200) {
                if (refusedAt < 0) {
                    refusedAt = i;
                    refusal = r;
                }
            } else {
                QVERIFY2(refusedAt < 0, "a request went through after the pause");
            }
            QThread::msleep(300);
        }
        // The fifth identical turn is refused, well within the 10-minute window.
        QCOMPARE(refusedAt, kRepeatCount - 1);
        QVERIFY(clock.elapsed() < 60'000);
        QCOMPARE(refusal.status, 400); // what Codex CLI and the OpenAI SDK stop on
        QCOMPARE(refusal.headers.value("x-should-retry"), QByteArray("false"));
        QCOMPARE(refusal.headers.value("x-gatehouse-guardrail"), QByteArray("repetition"));
        QCOMPARE(openAIErrorProblem(refusal), QString());
        QCOMPARE(errorCode(refusal), QStringLiteral("guardrail_paused"));
        const QString message = errorMessage(refusal);
        QVERIFY2(message.contains(QLatin1String("answered 4 times")) && message.contains(QLatin1String("POST /v1/key/resume")),
                 qPrintable(message));
        // The refusal is a row of the request log, of kind guardrail, its reason the message.
        const QString refusedId = QString::fromLatin1(refusal.headers.value("x-gatehouse-request-id"));
        const auto refusedRow = m_h.db->waitFor(refusedId);
        QVERIFY(refusedRow);
        QCOMPARE(m_h.db->refusalOf(refusedId), std::optional<QString>(QStringLiteral("guardrail")));
        QCOMPARE(refusedRow->error, message);
        // Only the answered requests reached the provider, and spend stopped rising.
        QCOMPARE(m_h.mock->requestCount(QStringLiteral("ok@p=2000,c=20")) - before, qint64(kRepeatCount - 1));
        const QJsonObject info = keyInfo(kAgentSecret);
        const double spent = daySpend(info);
        QVERIFY(spent > 0);
        QVERIFY(chat(kAgentSecret, openAITurns(kModel, {kFailure}, 99)).status == 400);
        QCOMPARE(daySpend(keyInfo(kAgentSecret)), spent);
        QCOMPARE(info.value(QLatin1String("reserved_usd")).toDouble(), 0.0); // no reservation left behind

        // GET /v1/key shows the trip and its evidence.
        const QJsonObject guard = info.value(QLatin1String("guardrails")).toObject();
        const QJsonArray trips = guard.value(QLatin1String("trips")).toArray();
        QCOMPARE(trips.size(), 1);
        const QJsonObject trip = trips.first().toObject();
        QCOMPARE(trip.value(QLatin1String("detector")).toString(), QStringLiteral("repetition"));
        QCOMPARE(trip.value(QLatin1String("action")).toString(), QStringLiteral("pause"));
        QCOMPARE(trip.value(QLatin1String("active")).toBool(), true);
        QCOMPARE(trip.value(QLatin1String("request_id")).toString(), ids.at(refusedAt));
        QCOMPARE(trip.value(QLatin1String("evidence")).toObject().value(QLatin1String("answered_before")).toInt(), kRepeatCount - 1);
        QCOMPARE(guard.value(QLatin1String("policy")).toObject().value(QLatin1String("repetition")).toString(), QStringLiteral("pause"));

        // Every request is in the log, the refused ones included, the tripping one with its reason.
        const QList<LoggedRequest> rows = m_h.db->waitForCount(13);
        QCOMPARE(rows.size(), 13);
        const auto tripped = m_h.db->waitFor(ids.at(refusedAt));
        QVERIFY(tripped);
        QCOMPARE(tripped->status, 400);
        QVERIFY(tripped->error.contains(QLatin1String("repetition guardrail")));
        QCOMPARE(tripped->costUsd(), 0.0);

        // Resumed with the key: the loop's next turn goes through again.
        HttpClient client(m_h.gateway->port());
        const HttpResponse resumed = client.post("/v1/key/resume", QByteArray(), bearer(kAgentSecret));
        QCOMPARE(resumed.status, 200);
        QCOMPARE(resumed.json().value(QLatin1String("resumed")).toInt(), 1);
        QCOMPARE(chat(kAgentSecret, openAITurns(kModel, {kFailure}, 100)).status, 200);
        const QJsonObject after = keyInfo(kAgentSecret).value(QLatin1String("guardrails")).toObject();
        QCOMPARE(after.value(QLatin1String("paused")).toBool(), false);
        QCOMPARE(after.value(QLatin1String("trips")).toArray().first().toObject().value(QLatin1String("active")).toBool(), false);
        // A bad resume body is refused in OpenAI's shape.
        const HttpResponse bad = client.post("/v1/key/resume", "{\"session\": 5}", bearer(kAgentSecret));
        QCOMPARE(bad.status, 400);
        QCOMPARE(openAIErrorProblem(bad), QString());
    }

    void claudeCodeLoopGetsAnAnthropicRefusal()
    {
        Headers headers{{"x-api-key", kClaudeSecret}, {"anthropic-version", "2023-06-01"},
                        {"x-claude-code-session-id", "7b0e1c2a-1111-4c4c-9d9d-000000000001"}};
        HttpClient client(m_h.gateway->port());
        int refusedAt = -1;
        HttpResponse refusal;
        for (int i = 0; i < 8 && refusedAt < 0; ++i) {
            const HttpResponse r = client.post("/v1/messages", anthropicLoopTurn(i), headers);
            if (r.status != 200) {
                refusedAt = i;
                refusal = r;
            }
            QThread::msleep(200);
        }
        QCOMPARE(refusedAt, kRepeatCount - 1);
        QCOMPARE(refusal.status, 403); // what Claude Code stops on (with x-should-retry: false)
        QCOMPARE(refusal.headers.value("x-should-retry"), QByteArray("false"));
        const QJsonObject body = refusal.json();
        QCOMPARE(body.value(QLatin1String("type")).toString(), QStringLiteral("error"));
        QCOMPARE(body.value(QLatin1String("error")).toObject().value(QLatin1String("type")).toString(), QStringLiteral("permission_error"));
        const QString message = body.value(QLatin1String("error")).toObject().value(QLatin1String("message")).toString();
        QVERIFY2(message.contains(QLatin1String("session 7b0e1c2a-1111-4c4c-9d9d-000000000001")), qPrintable(message));
        // Only that session is paused: another Claude Code session of the same key, doing other
        // work, goes on; the paused one stays paused whatever it sends.
        Headers other = headers;
        other.replace(2, {"x-claude-code-session-id", "7b0e1c2a-1111-4c4c-9d9d-000000000002"});
        const QByteArray otherWork = R"({"model":"mock/agent","max_tokens":64,"messages":[{"role":"user","content":"Write a README."}]})";
        QCOMPARE(client.post("/v1/messages", otherWork, other).status, 200);
        QCOMPARE(client.post("/v1/messages", otherWork, headers).status, 403);
        // The loop's turn from a new session (a script starting Claude Code over and over) pauses
        // the whole key.
        Headers third = headers;
        third.replace(2, {"x-claude-code-session-id", "7b0e1c2a-1111-4c4c-9d9d-000000000003"});
        const HttpResponse keyWide = client.post("/v1/messages", anthropicLoopTurn(60), third);
        QCOMPARE(keyWide.status, 403);
        QVERIFY2(keyWide.json().value(QLatin1String("error")).toObject().value(QLatin1String("message")).toString()
                     .startsWith(QLatin1String("Gatehouse paused key 'claude'")),
                 keyWide.body.constData());
        QCOMPARE(client.post("/v1/messages", otherWork, other).status, 403);
    }

    void sameFailureTurnAfterTurnIsPaused()
    {
        // The agent edits and reruns the test; the conversation grows, the failure it gets back
        // does not. The fifth time it comes back, within seconds, the session is paused.
        Headers headers = bearer(kStuckSecret);
        headers.append(std::pair<QByteArray, QByteArray>("x-claude-code-session-id", "5d4c3b2a-2222-4c4c-9d9d-000000000001"));
        HttpClient client(m_h.gateway->port());
        QStringList results;
        int refusedAt = -1;
        HttpResponse refusal;
        for (int turn = 0; turn < 8 && refusedAt < 0; ++turn) {
            results.append(kFailure);
            const HttpResponse r = client.post("/v1/chat/completions", openAITurns(kModel, results, turn), headers);
            if (r.status != 200) {
                refusedAt = turn;
                refusal = r;
            }
            QThread::msleep(200);
        }
        QCOMPARE(refusedAt, 4);
        QCOMPARE(refusal.status, 400);
        QCOMPARE(errorCode(refusal), QStringLiteral("guardrail_paused"));
        QVERIFY2(errorMessage(refusal).contains(QLatin1String("came back 5 times")), qPrintable(errorMessage(refusal)));
        const QJsonArray trips = keyInfo(kStuckSecret).value(QLatin1String("guardrails")).toObject().value(QLatin1String("trips")).toArray();
        QCOMPARE(trips.size(), 1);
        QCOMPARE(trips.first().toObject().value(QLatin1String("evidence")).toObject().value(QLatin1String("kind")).toString(),
                 QStringLiteral("same_result"));
        QCOMPARE(trips.first().toObject().value(QLatin1String("session")).toString(), QStringLiteral("5d4c3b2a-2222-4c4c-9d9d-000000000001"));
        // Resuming that one session with the key lets it go on.
        const HttpResponse resumed = client.post("/v1/key/resume", R"({"session":"5d4c3b2a-2222-4c4c-9d9d-000000000001"})", bearer(kStuckSecret));
        QCOMPARE(resumed.status, 200);
        QCOMPARE(resumed.json().value(QLatin1String("resumed")).toInt(), 1);
        results.append(QStringLiteral("42 passed in 0.40s ") + QString(80, u'.'));
        QCOMPARE(client.post("/v1/chat/completions", openAITurns(kModel, results, 9), headers).status, 200);
    }

    void normalLongSessionTripsNothing()
    {
        // 40 turns of a growing conversation with distinct tool calls and results, a few identical
        // short acknowledgements, and a 429 answered by resending the same conversation.
        QStringList results;
        int ok = 0;
        for (int turn = 0; turn < 40; ++turn) {
            results.append(turn % 4 == 3 ? QStringLiteral("ok")
                                         : QStringLiteral("$ step %1\n%2").arg(turn).arg(QString(120, QChar(u'a' + turn % 26))));
            const QByteArray body = openAITurns(kModel, results, turn);
            if (turn % 15 == 7) {
                QByteArray limited = body;
                limited.replace(kModel.toUtf8(), kLimited.toUtf8());
                QCOMPARE(chat(kNormalSecret, limited).status, 429);
            }
            const HttpResponse r = chat(kNormalSecret, body);
            QCOMPARE(r.status, 200);
            ++ok;
            QThread::msleep(20);
        }
        QCOMPARE(ok, 40);
        const QJsonObject guard = keyInfo(kNormalSecret).value(QLatin1String("guardrails")).toObject();
        QCOMPARE(guard.value(QLatin1String("trips")).toArray().size(), 0);
        QCOMPARE(guard.value(QLatin1String("paused")).toBool(), false);
    }

    void pauseSurvivesARestart()
    {
        // A session paused by a loop stays paused after the gateway restarts (its trip is in the
        // guardrail_trips table with its evidence); resuming it after the restart lifts it for
        // good, recorded as ended by the API.
        Headers headers = bearer(kPersistSecret);
        headers.append(std::pair<QByteArray, QByteArray>("x-claude-code-session-id", "9a8b7c6d-3333-4c4c-9d9d-000000000001"));
        int refusedAt = -1;
        QString trippingId;
        for (int i = 0; i < 8 && refusedAt < 0; ++i) {
            HttpClient client(m_h.gateway->port());
            const HttpResponse r = client.post("/v1/chat/completions", openAITurns(kModel, {kFailure}, i), headers);
            if (r.status != 200) {
                refusedAt = i;
                trippingId = QString::fromLatin1(r.headers.value("x-gatehouse-request-id"));
            }
            QThread::msleep(100);
        }
        QCOMPARE(refusedAt, kRepeatCount - 1);
        const QJsonArray before = keyInfo(kPersistSecret).value(QLatin1String("guardrails")).toObject().value(QLatin1String("trips")).toArray();
        QCOMPARE(before.size(), 1);
        const qint64 tripId = before.first().toObject().value(QLatin1String("id")).toInteger();
        QVERIFY(before.first().toObject().value(QLatin1String("cost_so_far_usd")).toDouble() > 0);

        QCOMPARE(m_h.gateway->terminate(), 0);
        {
            // What was persisted, read from the file while the gateway is down.
            const auto read = m_h.db->firstRow("SELECT key_name, session_id, detector, action, request_id, active, evidence, cost_nano_usd "
                                            "FROM guardrail_trips WHERE id = " + QByteArray::number(tripId));
            QVERIFY2(read, qPrintable(m_h.db->errorString()));
            const QStringList row = *read;
            QCOMPARE(row.size(), 8);
            QCOMPARE(row.at(0), QStringLiteral("persist"));
            QCOMPARE(row.at(1), QStringLiteral("9a8b7c6d-3333-4c4c-9d9d-000000000001"));
            QCOMPARE(row.at(2), QStringLiteral("repetition"));
            QCOMPARE(row.at(3), QStringLiteral("pause"));
            QCOMPARE(row.at(4), trippingId);
            QCOMPARE(row.at(5), QStringLiteral("1"));
            const QJsonObject evidence = QJsonDocument::fromJson(row.at(6).toUtf8()).object();
            QCOMPARE(evidence.value(QLatin1String("kind")).toString(), QStringLiteral("same_request"));
            QCOMPARE(evidence.value(QLatin1String("answered_before")).toInt(), kRepeatCount - 1);
            QVERIFY(row.at(7).toLongLong() > 0);
        }
        QVERIFY2(m_h.gateway->start(), qPrintable(m_h.gateway->errorString()));
        HttpClient client(m_h.gateway->port());
        const HttpResponse still = client.post("/v1/chat/completions", openAITurns(kModel, {QStringLiteral("new work")}, 50), headers);
        QCOMPARE(still.status, 400);
        QCOMPARE(errorCode(still), QStringLiteral("guardrail_paused"));
        const QJsonObject guard = keyInfo(kPersistSecret).value(QLatin1String("guardrails")).toObject();
        QCOMPARE(guard.value(QLatin1String("paused_sessions")).toArray().size(), 1);
        // Another key's trips came back too, and nothing else was paused by the restart.
        QCOMPARE(client.post("/v1/chat/completions", openAITurns(kModel, {QStringLiteral("hello")}, 51), bearer(kNormalSecret)).status, 200);

        const HttpResponse resumed = client.post("/v1/key/resume", QByteArray(), bearer(kPersistSecret));
        QCOMPARE(resumed.status, 200);
        QCOMPARE(resumed.json().value(QLatin1String("resumed")).toInt(), 1);
        QCOMPARE(client.post("/v1/chat/completions", openAITurns(kModel, {QStringLiteral("new work")}, 52), headers).status, 200);

        // Resumed is persisted as well: after one more restart the session is not paused.
        QCOMPARE(m_h.gateway->terminate(), 0);
        {
            const auto row = m_h.db->firstRow("SELECT active, ended_by, ended_at_ms > 0 FROM guardrail_trips WHERE id = " + QByteArray::number(tripId));
            QVERIFY2(row, qPrintable(m_h.db->errorString()));
            QCOMPARE(*row, (QStringList{QStringLiteral("0"), QStringLiteral("api"), QStringLiteral("1")}));
        }
        QVERIFY2(m_h.gateway->start(), qPrintable(m_h.gateway->errorString()));
        HttpClient after(m_h.gateway->port());
        QCOMPARE(after.post("/v1/chat/completions", openAITurns(kModel, {QStringLiteral("more work")}, 53), headers).status, 200);
    }
};

QTEST_GUILESS_MAIN(TestGatewayGuardrails)
#include "tst_gateway_guardrails.moc"
