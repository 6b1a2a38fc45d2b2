// The Compare page's conversations: their own connection to the gateway's database file, next to a
// running gh::Store; save, list, rename, delete, messages with votes, and the Markdown export.
#include "store/conversationstore.h"
#include "store/store.h"
#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>
#include <sqlite3.h>

using namespace gh;

namespace {

ConversationMessage answer(const QString &conversationId, int round, int pane, const QString &text, const QString &model)
{
    ConversationMessage m;
    m.conversationId = conversationId;
    m.round = round;
    m.pane = pane;
    m.role = QStringLiteral("assistant");
    m.content = text;
    m.modelId = model;
    m.requestId = QStringLiteral("req_%1_%2").arg(round).arg(pane);
    m.inputTokens = 12;
    m.cacheReadTokens = 3;
    m.outputTokens = 40 + pane;
    m.cost = 1234 + pane;
    m.ttftMs = 80 + pane;
    m.tokensPerSecond = 55.5;
    m.createdAtMs = 1000 + round;
    return m;
}

} // namespace

class TestConversationStore : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    [[nodiscard]] QString dbPath() const { return QDir(m_dir.path()).filePath(QStringLiteral("gatehouse.db")); }

private Q_SLOTS:
    void init()
    {
        QVERIFY(m_dir.isValid());
        QFile::remove(dbPath());
        QFile::remove(dbPath() + QStringLiteral("-wal"));
        QFile::remove(dbPath() + QStringLiteral("-shm"));
    }

    void savesListsRenamesDeletes()
    {
        Store store; // the gateway's store has the same file open (WAL)
        QVERIFY(store.open(dbPath()));
        ConversationStore conversations;
        QString error;
        QVERIFY2(conversations.open(dbPath(), &error), qPrintable(error));
        QVERIFY(conversations.conversations().isEmpty());

        Conversation a{QStringLiteral("c-a"), QStringLiteral("First"), 100, 100,
            {{QStringLiteral("mock/a"), QStringLiteral("Be brief."), 0.2}, {QStringLiteral("fast"), {}, std::nullopt}}};
        Conversation b{QStringLiteral("c-b"), QStringLiteral("Second"), 200, 200, {{QStringLiteral("mock/b"), {}, {}}}};
        QVERIFY(conversations.saveConversation(a));
        QVERIFY(conversations.saveConversation(b));

        QList<Conversation> list = conversations.conversations();
        QCOMPARE(list.size(), 2);
        QCOMPARE(list.at(0), b); // newest first
        QCOMPARE(list.at(1), a); // panes (temperature, none) round-trip
        QCOMPARE(list.at(1).panes.at(0).temperature, std::optional<double>(0.2));
        QVERIFY(!list.at(1).panes.at(1).temperature);

        QVERIFY(conversations.touch(a.id, 300));
        QCOMPARE(conversations.conversations().at(0).id, a.id);

        QVERIFY(conversations.rename(a.id, QStringLiteral("Renamed")));
        QCOMPARE(conversations.conversation(a.id)->title, QStringLiteral("Renamed"));
        QVERIFY(!conversations.rename(QStringLiteral("missing"), QStringLiteral("x")));
        QVERIFY(!conversations.conversation(QStringLiteral("missing")));

        // Messages, then deleting takes them along.
        ConversationMessage user;
        user.conversationId = a.id;
        user.round = 1;
        user.role = QStringLiteral("user");
        user.content = QStringLiteral("Hello");
        user.images = {QStringLiteral("data:image/png;base64,AAAA")};
        user.createdAtMs = 1000;
        QVERIFY(conversations.saveMessage(user));
        QVERIFY(conversations.saveMessage(answer(a.id, 1, 1, QStringLiteral("B"), QStringLiteral("mock/b"))));
        QVERIFY(conversations.saveMessage(answer(a.id, 1, 0, QStringLiteral("A"), QStringLiteral("mock/a"))));
        QVERIFY(conversations.saveMessage(answer(b.id, 1, 0, QStringLiteral("other"), QStringLiteral("mock/b"))));

        QList<ConversationMessage> messages = conversations.messages(a.id);
        QCOMPARE(messages.size(), 3);
        QCOMPARE(messages.at(0), user); // the user's message first, then the panes in order
        QCOMPARE(messages.at(1), answer(a.id, 1, 0, QStringLiteral("A"), QStringLiteral("mock/a")));
        QCOMPARE(messages.at(2).pane, 1);

        // Replacing a pane's answer (regenerate) keeps one row.
        ConversationMessage again = answer(a.id, 1, 1, QStringLiteral("B2"), QStringLiteral("mock/b"));
        again.cost.reset();
        again.error = QStringLiteral("stopped");
        QVERIFY(conversations.saveMessage(again));
        messages = conversations.messages(a.id);
        QCOMPARE(messages.size(), 3);
        QCOMPARE(messages.at(2), again);

        QVERIFY(conversations.remove(a.id));
        QVERIFY(conversations.messages(a.id).isEmpty());
        QCOMPARE(conversations.conversations().size(), 1);
        QCOMPARE(conversations.messages(b.id).size(), 1);
        store.close();
    }

    void votesOfARound()
    {
        ConversationStore conversations;
        QVERIFY(conversations.open(dbPath()));
        const QString id = QStringLiteral("c-v");
        QVERIFY(conversations.saveConversation({id, QStringLiteral("Votes"), 1, 1, {}}));
        for (int pane = 0; pane < 3; ++pane)
            QVERIFY(conversations.saveMessage(answer(id, 1, pane, QStringLiteral("x"), QStringLiteral("m%1").arg(pane))));
        QVERIFY(conversations.saveMessage(answer(id, 2, 0, QStringLiteral("y"), QStringLiteral("m0"))));

        QVERIFY(conversations.setRoundVote(id, 1, 2));
        QList<ConversationMessage> messages = conversations.messages(id);
        QCOMPARE(messages.at(0).vote, 0);
        QCOMPARE(messages.at(1).vote, 0);
        QCOMPARE(messages.at(2).vote, 1);
        QCOMPARE(messages.at(3).vote, ConversationMessage::kNoVote); // another round

        QVERIFY(conversations.setRoundVote(id, 1, -1));
        messages = conversations.messages(id);
        for (int i = 0; i < 3; ++i)
            QCOMPARE(messages.at(i).vote, -1);
    }

    void markdownExport()
    {
        Conversation c{QStringLiteral("c-m"), QStringLiteral("Haiku"), 0, 0, {}};
        ConversationMessage user;
        user.round = 1;
        user.role = QStringLiteral("user");
        user.content = QStringLiteral("Write a haiku");
        ConversationMessage a = answer(c.id, 1, 0, QStringLiteral("```\ncode\n```"), QStringLiteral("mock/a"));
        a.vote = 1;
        a.cost = 2'500'000; // $0.0025
        ConversationMessage b = answer(c.id, 1, 1, {}, QStringLiteral("mock/b"));
        b.error = QStringLiteral("upstream answered 500");
        const QString md = ConversationStore::toMarkdown(c, {user, a, b});
        QVERIFY(md.startsWith(QStringLiteral("# Haiku\n")));
        QVERIFY(md.contains(QStringLiteral("## Round 1")));
        QVERIFY(md.contains(QStringLiteral("**You:**\n\nWrite a haiku")));
        QVERIFY(md.contains(QStringLiteral("### mock/a — best answer\n\n```\ncode\n```")));
        QVERIFY(md.contains(QStringLiteral("first token 80 ms")));
        QVERIFY(md.contains(QStringLiteral("15 in (3 cached), 40 out")));
        QVERIFY(md.contains(QStringLiteral("$0.002500")));
        QVERIFY(md.contains(QStringLiteral("### mock/b\n\n> Error: upstream answered 500")));
    }

    void refusesAnotherApplicationsDatabase()
    {
        sqlite3 *db = nullptr;
        QCOMPARE(sqlite3_open(QFile::encodeName(dbPath()).constData(), &db), SQLITE_OK);
        QCOMPARE(sqlite3_exec(db, "CREATE TABLE foreign_table (x)", nullptr, nullptr, nullptr), SQLITE_OK);
        sqlite3_close(db);
        ConversationStore conversations;
        QString error;
        QVERIFY(!conversations.open(dbPath(), &error));
        QVERIFY(error.contains(QStringLiteral("another application")));
        QVERIFY(!conversations.saveConversation({QStringLiteral("x"), {}, 0, 0, {}}));
        QVERIFY(conversations.conversations().isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestConversationStore)
#include "tst_conversationstore.moc"
