// The Compare page's C++ half against the real gateway in-process and the mock upstream process:
// four panes (three models and a route alias) answer one message at once; each pane's text, usage
// and cost equal what the mock sent and what the request log row says; history, images, stop,
// regenerate, votes, the built-in key, and saved / renamed / exported / deleted conversations.
#include "appsingleton.h"
#include "backend.h"
#include "chatmodel.h"
#include "compareconversationsmodel.h"
#include "comparepanesmodel.h"
#include "comparesession.h"
#include "core/keyhash.h"
#include "gateway/gateway.h"
#include "gatewaytestkit.h"
#include "markdownblocks.h"
#include "mockupstream.h"
#include "testhelpers.h"
#include "store/conversationstore.h"
#include "store/store.h"
#include <QAbstractItemModelTester>
#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMutex>
#include <QQmlComponent>
#include <QQmlEngine>
#include <QQuickItem>
#include <QQuickWindow>
#include <QScopeGuard>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <sqlite3.h>

using namespace gh;
using namespace gh::ui;
using namespace gh::test;

namespace {

// What the mock streams for `chunks` content events (tests/mock/mockreplies.cpp contentPieces).
QString mockText(int chunks)
{
    static const QStringList words{QStringLiteral("Hello"), QStringLiteral("from"), QStringLiteral("the"),
        QStringLiteral("mock"), QStringLiteral("upstream"), QStringLiteral("with"), QStringLiteral("a"),
        QStringLiteral("few"), QStringLiteral("more"), QStringLiteral("words")};
    QStringList out;
    for (int i = 0; i < chunks; ++i)
        out << words.at(i % 10);
    return out.join(u' ');
}

// The mock's recorded requests to chat/completions, by the upstream model asked.
QHash<QString, QList<QJsonObject>> requestsByModel(MockUpstream &mock)
{
    QHash<QString, QList<QJsonObject>> out;
    const QJsonArray all = mock.receivedRequests();
    for (const QJsonValue &v : all) {
        const QJsonObject r = v.toObject();
        if (!r.value(QStringLiteral("path")).toString().endsWith(QLatin1String("/chat/completions")))
            continue;
        const QJsonObject body = QJsonDocument::fromJson(r.value(QStringLiteral("body")).toString().toUtf8()).object();
        out[body.value(QStringLiteral("model")).toString()] << r;
    }
    return out;
}

QJsonObject bodyOf(const QJsonObject &recorded)
{
    return QJsonDocument::fromJson(recorded.value(QStringLiteral("body")).toString().toUtf8()).object();
}

// Warnings from QML while the page renders (the same filter as the page smoke test).
QMutex g_mutex;
QStringList g_qmlWarnings;
QtMessageHandler g_previous = nullptr;
void recordQmlWarnings(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    const QLatin1String category(context.category ? context.category : "");
    if (type != QtDebugMsg && type != QtInfoMsg
        && (category.startsWith(QLatin1String("qml")) || category.startsWith(QLatin1String("js"))
            || category.startsWith(QLatin1String("qt.qml")) || message.contains(QLatin1String("qrc:/")))) {
        QMutexLocker lock(&g_mutex);
        g_qmlWarnings << message;
    }
    if (g_previous)
        g_previous(type, context, message);
}

// Every object below `root`, through QObject children and visual children.
QList<QObject *> descendants(QObject *root)
{
    QList<QObject *> out;
    QList<QObject *> todo{root};
    QSet<QObject *> seen;
    while (!todo.isEmpty()) {
        QObject *o = todo.takeLast();
        if (!o || seen.contains(o))
            continue;
        seen.insert(o);
        out << o;
        todo.append(o->children());
        if (auto *item = qobject_cast<QQuickItem *>(o))
            for (QQuickItem *child : item->childItems())
                todo.append(child);
    }
    return out;
}

const QString kA = QStringLiteral("mock/a");
const QString kB = QStringLiteral("mock/b");
const QString kC = QStringLiteral("mock/c");
const QString kD = QStringLiteral("mock/d");
const QString kRoute = QStringLiteral("fast"); // a route whose only target is mock/d
// Upstream behaviours: content chunks and usage differ per model; c streams slowly.
const QString kUpA = QStringLiteral("ok@chunks=3,p=120,cached=40");
const QString kUpB = QStringLiteral("ok@chunks=5,p=200");
const QString kUpC = QStringLiteral("stream-slow@delay=40,chunks=8,p=90");
const QString kUpD = QStringLiteral("ok@chunks=2,p=60,cached=10");
// For the marks: one thinks 400 ms, then answers at once; the other starts at once and trickles
// (done later than 400 ms, sooner than the 800 ms its figures alone would suggest for the first).
const QString kLate = QStringLiteral("mock/late");
const QString kTrickle = QStringLiteral("mock/trickle");
const QString kUpLate = QStringLiteral("slow-first-token@delay=400,chunks=2");
const QString kUpTrickle = QStringLiteral("stream-slow@delay=80,chunks=6"); // about 650 ms in all

} // namespace

class TestCompare : public QObject
{
    Q_OBJECT

    std::unique_ptr<MockUpstream> m_mock;
    QTemporaryDir m_dir;
    std::unique_ptr<Gateway> m_gateway;
    std::unique_ptr<Backend> m_backend;

    [[nodiscard]] QString dbPath() const { return QDir(m_dir.path()).filePath(QStringLiteral("gatehouse.db")); }

    static const ChatModel::Entry &answer(CompareSession &s, int pane, int round)
    {
        ChatModel *chat = s.panes()->pane(pane).chat;
        const int row = chat->answerRow(round);
        Q_ASSERT(row >= 0);
        return chat->entry(row);
    }

    static bool allCostsKnown(CompareSession &s, int round)
    {
        for (int i = 0; i < s.panes()->count(); ++i) {
            const ChatModel *chat = s.panes()->pane(i).chat;
            const int row = chat->answerRow(round);
            if (row < 0 || chat->data(chat->index(row), ChatModel::CostStateRole).toString() == QLatin1String("pending"))
                return false;
        }
        return true;
    }

    // Every pane's answer of `round` against the mock's records and the log row.
    void checkRound(CompareSession &s, int round, const QHash<QString, QList<QJsonObject>> &received)
    {
        const QList<std::pair<QString, QString>> expected{{kUpA, kA}, {kUpB, kB}, {kUpC, kC}, {kUpD, kD}};
        m_gateway->store().flush();
        for (int i = 0; i < 4; ++i) {
            const ChatModel::Entry &e = answer(s, i, round);
            const QString upstream = expected.at(i).first;
            QVERIFY2(e.message.error.isEmpty(), qPrintable(e.message.error));
            QVERIFY(!e.streaming);
            const int chunks = QStringView(upstream).mid(upstream.indexOf(QLatin1String("chunks=")) + 7).toString().section(u',', 0, 0).toInt();
            QCOMPARE(e.message.content, mockText(chunks));
            QCOMPARE(e.message.modelId, expected.at(i).second); // the route's pane: the model that served
            // What the mock billed for this answer (the last request it got for that model).
            QVERIFY(received.contains(upstream));
            const QJsonObject billed = received.value(upstream).constLast().value(QStringLiteral("billed")).toObject();
            QVERIFY2(!billed.isEmpty(), "the mock recorded no usage");
            const qint64 prompt = billed.value(QStringLiteral("prompt_tokens")).toInteger();
            const qint64 cached = billed.value(QStringLiteral("cached_tokens")).toInteger();
            const qint64 completion = billed.value(QStringLiteral("completion_tokens")).toInteger();
            QCOMPARE(e.message.inputTokens + e.message.cacheReadTokens, prompt);
            QCOMPARE(e.message.cacheReadTokens, cached);
            QCOMPARE(e.message.outputTokens, completion);
            const ChatModel *chat = s.panes()->pane(i).chat;
            const QModelIndex at = chat->index(chat->answerRow(round));
            QCOMPARE(chat->data(at, ChatModel::InputTokensRole).toLongLong(), prompt);
            QCOMPARE(chat->data(at, ChatModel::CachedTokensRole).toLongLong(), cached);
            QVERIFY(e.message.ttftMs >= 0);
            QVERIFY(e.message.tokensPerSecond > 0);
            // The log row of that request: same usage, and the cost shown is the row's.
            const std::optional<RequestRecord> row = m_gateway->store().request(e.message.requestId);
            QVERIFY2(row, qPrintable(e.message.requestId));
            QCOMPARE(row->keyName, QString(Backend::kChatKeyName));
            QCOMPARE(row->usage.inputTokens, e.message.inputTokens);
            QCOMPARE(row->usage.cacheReadTokens, e.message.cacheReadTokens);
            QCOMPARE(row->usage.outputTokens, e.message.outputTokens);
            QVERIFY(row->cost && *row->cost > 0);
            QCOMPARE(e.message.cost, row->cost);
            QCOMPARE(chat->data(at, ChatModel::CostRole).toDouble(), toUsd(*row->cost));
            QCOMPARE(chat->data(at, ChatModel::CostStateRole).toString(), QStringLiteral("priced"));
        }
        // The marks: the cheapest is the lowest logged cost; exactly one answer is the fastest.
        NanoUsd lowest = std::numeric_limits<NanoUsd>::max();
        for (int i = 0; i < 4; ++i)
            lowest = qMin(lowest, *answer(s, i, round).message.cost);
        int fastest = 0;
        for (int i = 0; i < 4; ++i) {
            QCOMPARE(answer(s, i, round).cheapest, *answer(s, i, round).message.cost == lowest);
            fastest += answer(s, i, round).fastest ? 1 : 0;
        }
        QCOMPARE(fastest, 1);
        QVERIFY(!answer(s, 2, round).fastest); // the slow stream
    }

private Q_SLOTS:
    void initTestCase()
    {
        if (qEnvironmentVariableIsEmpty("MOCK_UPSTREAM_BIN")) {
            const QString helperDir = qEnvironmentVariable("GATEHOUSE_TEST_HELPER_DIR", QCoreApplication::applicationDirPath());
            qputenv("MOCK_UPSTREAM_BIN", QDir(helperDir).filePath(QStringLiteral("mock/mock_upstream")).toUtf8());
        }
        m_mock = std::make_unique<MockUpstream>();
        QVERIFY2(m_mock->isRunning(), qPrintable(m_mock->errorString()));
        QVERIFY(m_dir.isValid());
        qputenv(kProviderKeyEnv, kProviderKey);

        const QString mock = QStringLiteral("mock");
        const QJsonObject config{
            {QStringLiteral("providers"), QJsonArray{mockProvider(*m_mock)}},
            {QStringLiteral("models"),
                QJsonArray{mockModel(kA, mock, kUpA, 1.0, 2.0, 0.5), mockModel(kB, mock, kUpB, 3.0, 15.0),
                    mockModel(kC, mock, kUpC, 0.2, 0.8), mockModel(kD, mock, kUpD, 0.1, 0.4, 0.05),
                    mockModel(kLate, mock, kUpLate, 1.0, 2.0), mockModel(kTrickle, mock, kUpTrickle, 1.0, 2.0)}},
            {QStringLiteral("routes"),
                QJsonArray{QJsonObject{{QStringLiteral("id"), kRoute}, {QStringLiteral("strategy"), QStringLiteral("ordered")},
                    {QStringLiteral("targets"), QJsonArray{QJsonObject{{QStringLiteral("model"), kD}}}}}}},
        };
        const QString configPath = QDir(m_dir.path()).filePath(QStringLiteral("config.json"));
        QVERIFY(writeJsonFile(configPath, config));

        m_gateway = std::make_unique<Gateway>();
        GatewayOptions options;
        options.dataDir = m_dir.path();
        options.configPath = configPath;
        options.port = 0;
        options.workers = 2;
        options.useKeychain = false;
        const auto started = m_gateway->start(options);
        QVERIFY2(started.ok, qPrintable(started.error));
        m_backend = std::make_unique<Backend>(*m_gateway);
    }

    void cleanupTestCase()
    {
        m_backend.reset();
        m_gateway.reset();
    }

    void init() { QVERIFY(m_mock->reset()); }

    void builtInKey()
    {
        // The first chat of a process creates the key and gives it a fresh secret; later calls reuse it.
        const QString secret = m_backend->chatSecret();
        QVERIFY(secret.startsWith(QLatin1String("gk-")));
        QCOMPARE(m_backend->chatSecret(), secret);
        const std::optional<StoredKey> key = m_gateway->store().keyByName(QString(Backend::kChatKeyName));
        QVERIFY(key);
        QCOMPARE(key->id, m_backend->chatKeyId());
        QCOMPARE(key->secretHash, hashSecret(secret));
        QVERIFY(!m_gateway->store().setting(QStringLiteral("ui.compare.models")).contains(secret));
        // The running gateway knows it.
        QVERIFY(m_gateway->context().registry.snapshot()->keyByHash(hashSecret(secret)));
    }

    void fourPanesOneMessage()
    {
        CompareSession s(m_backend.get());
        QAbstractItemModelTester panesTester(s.panes(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        QAbstractItemModelTester listTester(s.conversations(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        QVERIFY(s.ready());
        for (const QString &m : {kA, kB, kC, kD, kRoute})
            QVERIFY2(s.availableModels().contains(m), qPrintable(s.availableModels().join(u',')));

        while (s.panes()->count() < 4)
            QVERIFY(s.addPane());
        QVERIFY(!s.addPane()); // four at most
        const QStringList models{kA, kB, kC, kRoute};
        for (int i = 0; i < 4; ++i)
            s.setPaneModel(i, models.at(i));
        s.setPaneSystem(0, QStringLiteral("Answer in one line."));
        s.setPaneTemperature(1, 0.3);
        std::vector<std::unique_ptr<QAbstractItemModelTester>> chatTesters;
        for (int i = 0; i < 4; ++i)
            chatTesters.emplace_back(std::make_unique<QAbstractItemModelTester>(
                s.panes()->pane(i).chat, QAbstractItemModelTester::FailureReportingMode::QtTest));

        QSignalSpy finished(&s, &CompareSession::answerFinished);
        QVERIFY(s.send(QStringLiteral("Which sorting algorithm is stable?")));
        QVERIFY(s.busy());
        QVERIFY(!s.send(QStringLiteral("too early"))); // one round at a time
        QVERIFY(!s.removePane(3)); // panes are fixed once the conversation has a round
        QTRY_VERIFY_WITH_TIMEOUT(!s.busy(), 20000);
        QCOMPARE(finished.size(), 4);
        QTRY_VERIFY_WITH_TIMEOUT(allCostsKnown(s, 1), 5000);

        const auto received = requestsByModel(*m_mock);
        checkRound(s, 1, received);
        // The requests as sent: streamed with usage, the system prompt and temperature of their pane.
        const QJsonObject a = bodyOf(received.value(kUpA).constLast());
        QCOMPARE(a.value(QStringLiteral("stream")).toBool(), true);
        const QJsonArray aMessages = a.value(QStringLiteral("messages")).toArray();
        QCOMPARE(aMessages.size(), 2);
        QCOMPARE(aMessages.at(0).toObject().value(QStringLiteral("role")).toString(), QStringLiteral("system"));
        QCOMPARE(aMessages.at(1).toObject().value(QStringLiteral("content")).toString(), QStringLiteral("Which sorting algorithm is stable?"));
        QCOMPARE(bodyOf(received.value(kUpB).constLast()).value(QStringLiteral("temperature")).toDouble(), 0.3);
        QVERIFY(!bodyOf(received.value(kUpC).constLast()).contains(QStringLiteral("temperature")));
        // The gateway authenticated every request with the built-in key.
        QCOMPARE(m_backend->uiSetting(QStringLiteral("compare.models")).toArray(), QJsonArray::fromStringList(models));

        // Round 2 with an image: each pane sends its own history and the image as a data: URL.
        const QString png = QDir(m_dir.path()).filePath(QStringLiteral("dot.png"));
        {
            QFile f(png);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(QByteArray::fromBase64("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="));
        }
        const QString notImage = QDir(m_dir.path()).filePath(QStringLiteral("notes.txt"));
        {
            QFile f(notImage);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("plain text");
        }
        QSignalSpy notified(&s, &CompareSession::notify);
        QVERIFY(!s.attachImage(QUrl::fromLocalFile(notImage)));
        QCOMPARE(notified.size(), 1);
        QVERIFY(s.attachImage(QUrl::fromLocalFile(png)));
        QCOMPARE(s.attachments(), QStringList{QStringLiteral("dot.png")});
        QVERIFY(m_mock->reset());
        QVERIFY(s.send(QStringLiteral("And this picture?")));
        QVERIFY(s.attachments().isEmpty());
        QTRY_VERIFY_WITH_TIMEOUT(!s.busy(), 20000);
        QTRY_VERIFY_WITH_TIMEOUT(allCostsKnown(s, 2), 5000);
        const auto second = requestsByModel(*m_mock);
        checkRound(s, 2, second);
        const QJsonArray history = bodyOf(second.value(kUpB).constLast()).value(QStringLiteral("messages")).toArray();
        QCOMPARE(history.size(), 3); // user, the pane's own answer, user
        QCOMPARE(history.at(1).toObject().value(QStringLiteral("role")).toString(), QStringLiteral("assistant"));
        QCOMPARE(history.at(1).toObject().value(QStringLiteral("content")).toString(), answer(s, 1, 1).message.content);
        const QJsonArray parts = history.at(2).toObject().value(QStringLiteral("content")).toArray();
        QCOMPARE(parts.size(), 2);
        QCOMPARE(parts.at(0).toObject().value(QStringLiteral("text")).toString(), QStringLiteral("And this picture?"));
        QVERIFY(parts.at(1).toObject().value(QStringLiteral("image_url")).toObject().value(QStringLiteral("url")).toString()
                    .startsWith(QLatin1String("data:image/png;base64,iVBOR")));

        // Round 3: stop the slow pane mid-stream; the others finish.
        QVERIFY(s.send(QStringLiteral("Third question")));
        QTRY_VERIFY_WITH_TIMEOUT(!s.panes()->pane(2).chat->textAt(s.panes()->pane(2).chat->answerRow(3)).isEmpty()
                || !s.panes()->pane(2).pending.isEmpty(), 10000);
        s.stop(2);
        QVERIFY(!s.panes()->pane(2).stream);
        QCOMPARE(answer(s, 2, 3).message.error, CompareSession::kStopped);
        QVERIFY(answer(s, 2, 3).message.content.size() < mockText(8).size());
        QTRY_VERIFY_WITH_TIMEOUT(!s.busy(), 20000);
        QVERIFY(answer(s, 0, 3).message.error.isEmpty());

        // Regenerate pane 1's last answer: a new request replaces it in place.
        const QString before = answer(s, 1, 3).message.requestId;
        const int rows = s.panes()->pane(1).chat->rowCount();
        QVERIFY(s.regenerate(1));
        QVERIFY(s.busy());
        QTRY_VERIFY_WITH_TIMEOUT(!s.busy(), 20000);
        QTRY_VERIFY_WITH_TIMEOUT(allCostsKnown(s, 3) || answer(s, 1, 3).costKnown, 5000);
        QCOMPARE(s.panes()->pane(1).chat->rowCount(), rows);
        QVERIFY(answer(s, 1, 3).message.requestId != before);
        QCOMPARE(answer(s, 1, 3).message.content, mockText(5));
        m_gateway->store().flush();
        QCOMPARE(answer(s, 1, 3).message.cost, m_gateway->store().request(answer(s, 1, 3).message.requestId)->cost);

        // Vote: pane 1 is the best of round 1; the route's pane counts for the model that served.
        const QHash<QString, VoteStats> statsBefore = m_gateway->store().voteStats();
        QVERIFY(s.vote(1, 1));
        QCOMPARE(s.lastRoundVote(), ConversationMessage::kNoVote); // round 1 is not the last round
        QVERIFY(s.vote(3, -1)); // round 3: all bad (the stopped pane is not counted)
        QCOMPARE(s.lastRoundVote(), -1);
        const QHash<QString, VoteStats> stats = m_gateway->store().voteStats();
        QCOMPARE(stats.value(kB).wins, statsBefore.value(kB).wins + 1);
        QCOMPARE(stats.value(kB).rounds, statsBefore.value(kB).rounds + 2);
        QCOMPARE(stats.value(kA).wins, statsBefore.value(kA).wins);
        QCOMPARE(stats.value(kA).rounds, statsBefore.value(kA).rounds + 2);
        QCOMPARE(stats.value(kA).allBad, statsBefore.value(kA).allBad + 1);
        QCOMPARE(stats.value(kD).rounds, statsBefore.value(kD).rounds + 2);
        QCOMPARE(stats.value(kC).rounds, statsBefore.value(kC).rounds + 1); // stopped in round 3
        QVERIFY(!stats.contains(kRoute));
        QCOMPARE(answer(s, 1, 1).message.vote, 1);
        QCOMPARE(answer(s, 0, 1).message.vote, 0);
        // The gateway's registry was refreshed with them (the quality strategy reads it).
        QCOMPARE(m_gateway->context().registry.snapshot()->votes.value(kB).wins, stats.value(kB).wins);
        QVERIFY(!s.vote(1, 7));

        // The conversation is saved: read it back through a connection of our own.
        ConversationStore saved;
        QVERIFY(saved.open(dbPath()));
        const QList<Conversation> list = saved.conversations();
        QCOMPARE(list.size(), 1);
        const Conversation c = list.constFirst();
        QCOMPARE(c.id, s.conversationId());
        QCOMPARE(c.title, QStringLiteral("Which sorting algorithm is stable?"));
        QCOMPARE(c.panes.size(), 4);
        QCOMPARE(c.panes.at(3).model, kRoute);
        QCOMPARE(c.panes.at(0).system, QStringLiteral("Answer in one line."));
        QCOMPARE(c.panes.at(1).temperature, std::optional<double>(0.3));
        const QList<ConversationMessage> messages = saved.messages(c.id);
        QCOMPARE(messages.size(), 3 * 5);
        QCOMPARE(messages.at(0).role, QStringLiteral("user"));
        QCOMPARE(messages.at(1).content, answer(s, 0, 1).message.content);
        QCOMPARE(messages.at(1).cost, answer(s, 0, 1).message.cost);
        QCOMPARE(messages.at(2).vote, 1);
        QCOMPARE(messages.at(5).images.size(), 1);
        QCOMPARE(messages.at(13).error, CompareSession::kStopped);
        QCOMPARE(messages.at(4).modelId, kD);

        // Rename, export, reopen, delete.
        QVERIFY(s.renameConversation(c.id, QStringLiteral("  Stable sorts  ")));
        QCOMPARE(s.conversationTitle(), QStringLiteral("Stable sorts"));
        QCOMPARE(s.conversations()->data(s.conversations()->index(0), CompareConversationsModel::TitleRole).toString(),
            QStringLiteral("Stable sorts"));
        const QString exported = QDir(m_dir.path()).filePath(QStringLiteral("export.md"));
        QVERIFY(s.exportMarkdown(QString(), QUrl::fromLocalFile(exported)));
        QFile md(exported);
        QVERIFY(md.open(QIODevice::ReadOnly));
        const QString text = QString::fromUtf8(md.readAll());
        QVERIFY(text.startsWith(QStringLiteral("# Stable sorts")));
        QVERIFY(text.contains(QStringLiteral("## Round 3")));
        QVERIFY(text.contains(QStringLiteral("### mock/b — best answer\n\n") + mockText(5)));
        QVERIFY(!s.exportMarkdown(QString(), QUrl::fromLocalFile(QStringLiteral("/nonexistent-dir/x.md"))));

        s.newConversation();
        QCOMPARE(s.round(), 0);
        QCOMPARE(s.panes()->pane(0).chat->rowCount(), 0);
        QVERIFY(s.openConversation(c.id));
        QCOMPARE(s.round(), 3);
        QCOMPARE(s.panes()->count(), 4);
        QCOMPARE(s.panes()->pane(3).config.model, kRoute);
        QCOMPARE(s.panes()->pane(1).chat->rowCount(), 6);
        QCOMPARE(answer(s, 1, 1).message.vote, 1);
        QCOMPARE(answer(s, 2, 1).message.content, mockText(8));
        QVERIFY(answer(s, 0, 1).cheapest || answer(s, 1, 1).cheapest || answer(s, 2, 1).cheapest || answer(s, 3, 1).cheapest);

        QVERIFY(s.deleteConversation(c.id));
        QCOMPARE(s.round(), 0);
        QCOMPARE(s.conversations()->rowCount(), 0);
        QVERIFY(saved.conversations().isEmpty());
        QVERIFY(saved.messages(c.id).isEmpty());
        QVERIFY(!s.openConversation(c.id));
    }

    void errorsShowInTheirPane()
    {
        CompareSession s(m_backend.get());
        // The models compared last come back.
        QCOMPARE(s.panes()->count(), 4);
        QCOMPARE(s.panes()->pane(3).config.model, kRoute);
        s.setPaneModel(1, QStringLiteral("mock/unknown-model-xyz"));
        s.setPaneModel(2, QStringLiteral("no-such-model"));
        QVERIFY(s.send(QStringLiteral("hello")));
        QTRY_VERIFY_WITH_TIMEOUT(!s.busy(), 20000);
        QVERIFY(answer(s, 0, 1).message.error.isEmpty());
        QVERIFY(!answer(s, 2, 1).message.error.isEmpty());
        QVERIFY2(answer(s, 2, 1).message.content.isEmpty(), qPrintable(answer(s, 2, 1).message.content));
        // Only finished answers take part in the marks and votes.
        QVERIFY(!answer(s, 2, 1).fastest && !answer(s, 2, 1).cheapest);
        QSignalSpy notified(&s, &CompareSession::notify);
        QVERIFY(!s.vote(1, 2));
        QCOMPARE(notified.size(), 1);
        s.newConversation();
        s.setPaneModel(0, QString());
        QVERIFY(!s.send(QStringLiteral("no model"))); // a pane without a model
        QCOMPARE(s.round(), 0);
    }

    // The page itself: a round with Markdown and a code block renders every block of every pane,
    // with the figures, and without a QML warning.
    void pageRendersAnswers()
    {
        AppSingleton app(m_backend.get());
        QQmlEngine engine;
        engine.addImportPath(QStringLiteral("qrc:/qt/qml"));
        QQmlComponent component(&engine, QUrl(QStringLiteral("qrc:/qt/qml/Gatehouse/ui/compare/ComparePage.qml")));
        QVERIFY2(component.isReady(), qPrintable(component.errorString()));
        QQuickWindow window;
        window.resize(1300, 800);
        g_previous = qInstallMessageHandler(recordQmlWarnings);
        const auto restore = qScopeGuard([] { qInstallMessageHandler(g_previous); });
        std::unique_ptr<QObject> root(
            component.createWithInitialProperties({{QStringLiteral("backend"), QVariant::fromValue(m_backend.get())}}));
        QVERIFY2(root, qPrintable(component.errorString()));
        auto *page = qobject_cast<QQuickItem *>(root.get());
        page->setParentItem(window.contentItem());
        page->setSize(QSizeF(1300, 800));
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        CompareSession *s = page->findChild<CompareSession *>();
        QVERIFY(s);
        s->newConversation();
        while (s->panes()->count() < 4)
            QVERIFY(s->addPane());
        const QStringList models{kA, kB, kC, kRoute};
        for (int i = 0; i < 4; ++i)
            s->setPaneModel(i, models.at(i));
        QTRY_COMPARE(page->findChildren<QQuickItem *>().size() > 0, true);

        // A Markdown answer with a code block, as a model would stream it (the chat model is what
        // the panes render; the mock's answers are plain words).
        QVERIFY(s->send(QStringLiteral("Render check")));
        QTRY_VERIFY_WITH_TIMEOUT(!s->busy(), 20000);
        ChatModel *chat = s->panes()->pane(0).chat;
        ConversationMessage m = chat->entry(1).message;
        m.content += QStringLiteral("\n\n**Bold** text.\n\n```cpp\nint main() { return 0; }\n```\n");
        chat->update(1, m, false);
        QTest::qWait(200);

        QStringList shown;
        int codeBlocks = 0;
        for (QObject *o : descendants(page)) {
            if (o->inherits("QQuickTextEdit") && qobject_cast<QQuickItem *>(o)->isVisible())
                shown << o->property("text").toString().trimmed();
            if (o->property("code").toString() == QLatin1String("int main() { return 0; }"))
                ++codeBlocks;
        }
        QVERIFY2(shown.contains(mockText(3)), qPrintable(shown.join(u'|')));
        QVERIFY(shown.contains(mockText(5)));
        QVERIFY(shown.contains(mockText(8)));
        QVERIFY(shown.contains(QStringLiteral("**Bold** text.")));
        QCOMPARE(codeBlocks, 1);
        QMutexLocker lock(&g_mutex);
        QVERIFY2(g_qmlWarnings.isEmpty(), qPrintable(g_qmlWarnings.join(u'\n')));
    }

    void markdownBlocks()
    {
        using Kind = MarkdownBlocksModel::Block::Kind;
        const auto blocks = MarkdownBlocksModel::split(
            u"Intro **bold**\nsecond line\n\n- one\n\n- two\n\n```cpp\nint x = 1;\n\nreturn x;\n```\nAfter\n\n~~~\nunclosed");
        QCOMPARE(blocks.size(), 5);
        QCOMPARE(blocks.at(0).text, QStringLiteral("Intro **bold**\nsecond line"));
        QCOMPARE(blocks.at(1).text, QStringLiteral("- one\n\n- two")); // a loose list stays together
        QCOMPARE(blocks.at(2).kind, Kind::Code);
        QCOMPARE(blocks.at(2).language, QStringLiteral("cpp"));
        QCOMPARE(blocks.at(2).text, QStringLiteral("int x = 1;\n\nreturn x;"));
        QCOMPARE(blocks.at(3).text, QStringLiteral("After"));
        QCOMPARE(blocks.at(4).kind, Kind::Code);
        QCOMPARE(blocks.at(4).text, QStringLiteral("unclosed"));
        QVERIFY(MarkdownBlocksModel::split(u"Use ```inline``` code").at(0).kind == Kind::Text);

        // Streaming: only the last block changes; earlier rows are never touched.
        MarkdownBlocksModel m;
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy changed(&m, &QAbstractItemModel::dataChanged);
        QSignalSpy inserted(&m, &QAbstractItemModel::rowsInserted);
        QString text;
        const QString full = QStringLiteral("First paragraph.\n\nSecond one\n\n```py\nprint(1)\n```\n\nEnd.");
        for (QChar ch : full) {
            text += ch;
            m.setText(text);
            for (const QList<QVariant> &args : std::as_const(changed))
                QCOMPARE(args.at(0).value<QModelIndex>().row(), m.rowCount() - 1);
            changed.clear();
        }
        QCOMPARE(m.blocks(), MarkdownBlocksModel::split(full));
        QCOMPARE(m.rowCount(), 4);
        QVERIFY(inserted.size() >= 4);
        m.setText(QStringLiteral("Short"));
        QCOMPARE(m.rowCount(), 1);
    }

    // "Finished first" is on the answer that was complete first, not on the first token: the late
    // starter wins it although the trickling pane's first token came earlier. The first-token
    // times Compare shows agree with the request log's (what Rankings reads): the log counts from
    // the request's arrival, Compare from its sending, so the log's is a little smaller.
    void finishedFirstAndFirstTokens()
    {
        CompareSession s(m_backend.get());
        while (s.panes()->count() > 2)
            QVERIFY(s.removePane(s.panes()->count() - 1));
        while (s.panes()->count() < 2)
            QVERIFY(s.addPane());
        s.setPaneModel(0, kLate);
        s.setPaneModel(1, kTrickle);
        QVERIFY(s.send(QStringLiteral("Which is faster?")));
        QTRY_VERIFY_WITH_TIMEOUT(!s.busy(), 20000);
        QTRY_VERIFY_WITH_TIMEOUT(allCostsKnown(s, 1), 5000);
        const ChatModel::Entry &late = answer(s, 0, 1);
        const ChatModel::Entry &trickle = answer(s, 1, 1);
        QVERIFY2(late.message.error.isEmpty() && trickle.message.error.isEmpty(),
            qPrintable(late.message.error + trickle.message.error));
        QVERIFY2(late.message.ttftMs >= 400, qPrintable(QString::number(late.message.ttftMs)));
        QVERIFY2(trickle.message.ttftMs < late.message.ttftMs,
            qPrintable(QStringLiteral("%1 vs %2").arg(trickle.message.ttftMs).arg(late.message.ttftMs)));
        QVERIFY(late.fastest);
        QVERIFY(!trickle.fastest);
        m_gateway->store().flush();
        for (const ChatModel::Entry *e : {&late, &trickle}) {
            const std::optional<RequestRecord> row = m_gateway->store().request(e->message.requestId);
            QVERIFY2(row, qPrintable(e->message.requestId));
            QVERIFY2(row->ttftMs >= 0 && row->ttftMs <= e->message.ttftMs && e->message.ttftMs - row->ttftMs < 150,
                qPrintable(QStringLiteral("log %1 ms, Compare %2 ms").arg(row->ttftMs).arg(e->message.ttftMs)));
        }
    }
};

QTEST_MAIN(TestCompare)
#include "tst_compare.moc"
