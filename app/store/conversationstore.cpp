#include "store/conversationstore.h"
#include "core/logging.h"
#include "store/migrations.h"
#include "store/sqlite.h"
#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <sqlite3.h>

namespace gh {

namespace {

constexpr int kBusyTimeoutMs = 5000;

using Stmt = sqlite::Statement;

QString panesToJson(const QList<ConversationPane> &panes)
{
    QJsonArray array;
    for (const ConversationPane &p : panes) {
        QJsonObject o{{QStringLiteral("model"), p.model}, {QStringLiteral("system"), p.system}};
        o.insert(QStringLiteral("temperature"), p.temperature ? QJsonValue(*p.temperature) : QJsonValue());
        array.append(o);
    }
    return QString::fromUtf8(QJsonDocument(array).toJson(QJsonDocument::Compact));
}

// Tolerant: a malformed value gives no panes rather than an error (the messages are still there).
QList<ConversationPane> panesFromJson(const QString &text)
{
    QList<ConversationPane> panes;
    const QJsonDocument doc = QJsonDocument::fromJson(text.toUtf8());
    const QJsonArray array = doc.array();
    for (const QJsonValue &v : array) {
        const QJsonObject o = v.toObject();
        ConversationPane p;
        p.model = o.value(QStringLiteral("model")).toString();
        p.system = o.value(QStringLiteral("system")).toString();
        if (o.value(QStringLiteral("temperature")).isDouble())
            p.temperature = o.value(QStringLiteral("temperature")).toDouble();
        panes << p;
    }
    return panes;
}

QString imagesToJson(const QStringList &images)
{
    return QString::fromUtf8(QJsonDocument(QJsonArray::fromStringList(images)).toJson(QJsonDocument::Compact));
}

QStringList imagesFromJson(const QString &text)
{
    QStringList out;
    const QJsonArray array = QJsonDocument::fromJson(text.toUtf8()).array();
    for (const QJsonValue &v : array) {
        if (v.isString())
            out << v.toString();
    }
    return out;
}

constexpr const char *kConversationColumns = "id, title, created_at_ms, updated_at_ms, panes";

Conversation readConversation(const Stmt &st)
{
    Conversation c;
    c.id = st.text(0);
    c.title = st.text(1);
    c.createdAtMs = st.integer(2);
    c.updatedAtMs = st.integer(3);
    c.panes = panesFromJson(st.text(4));
    return c;
}

} // namespace

ConversationStore::~ConversationStore()
{
    close();
}

bool ConversationStore::open(const QString &path, QString *error)
{
    close();
    QString why;
    sqlite3 *db = sqlite::open(path, sqlite::Access::ReadWriteCreate, kBusyTimeoutMs, &why);
    if (db && sqlite::exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL", &why)
        && !store::migrate(db, &why) && why.isEmpty())
        why = QStringLiteral("migration failed");
    if (!why.isEmpty()) {
        sqlite::close(db);
        m_lastError = QStringLiteral("cannot open %1: %2").arg(path, why);
        qCWarning(lcStore) << "conversations:" << m_lastError;
        if (error)
            *error = m_lastError;
        return false;
    }
    m_db = db;
    return true;
}

void ConversationStore::close()
{
    sqlite::close(m_db);
    m_db = nullptr;
}

bool ConversationStore::fail(const char *what) const
{
    m_lastError = m_db ? QStringLiteral("%1: %2").arg(QLatin1String(what), sqlite::errorOf(m_db))
                       : QStringLiteral("%1: the conversation store is not open").arg(QLatin1String(what));
    qCWarning(lcStore) << "conversations:" << m_lastError;
    return false;
}

QList<Conversation> ConversationStore::conversations() const
{
    QList<Conversation> out;
    if (!m_db)
        return out;
    Stmt st(m_db, QByteArray("SELECT ") + kConversationColumns + " FROM conversations ORDER BY updated_at_ms DESC, id");
    if (!st.ok()) {
        fail("listing conversations");
        return out;
    }
    while (st.step() == SQLITE_ROW)
        out << readConversation(st);
    return out;
}

std::optional<Conversation> ConversationStore::conversation(const QString &id) const
{
    if (!m_db)
        return std::nullopt;
    Stmt st(m_db, QByteArray("SELECT ") + kConversationColumns + " FROM conversations WHERE id = ?");
    if (!st.ok()) {
        fail("reading a conversation");
        return std::nullopt;
    }
    st.bind(1, id);
    if (st.step() != SQLITE_ROW)
        return std::nullopt;
    return readConversation(st);
}

bool ConversationStore::saveConversation(const Conversation &c)
{
    if (!m_db || c.id.isEmpty())
        return fail("saving a conversation");
    Stmt st(m_db, "INSERT INTO conversations (id, title, created_at_ms, updated_at_ms, panes) VALUES (?, ?, ?, ?, ?) "
                  "ON CONFLICT (id) DO UPDATE SET title = excluded.title, updated_at_ms = excluded.updated_at_ms, "
                  "panes = excluded.panes");
    if (!st.ok())
        return fail("saving a conversation");
    st.bind(1, c.id);
    st.bind(2, c.title);
    st.bind(3, c.createdAtMs);
    st.bind(4, c.updatedAtMs);
    st.bind(5, panesToJson(c.panes));
    return st.step() == SQLITE_DONE || fail("saving a conversation");
}

bool ConversationStore::rename(const QString &id, const QString &title)
{
    if (!m_db)
        return fail("renaming a conversation");
    Stmt st(m_db, "UPDATE conversations SET title = ? WHERE id = ?");
    if (!st.ok())
        return fail("renaming a conversation");
    st.bind(1, title);
    st.bind(2, id);
    if (st.step() != SQLITE_DONE)
        return fail("renaming a conversation");
    if (sqlite3_changes(m_db) == 0) {
        m_lastError = QStringLiteral("no conversation %1").arg(id);
        return false;
    }
    return true;
}

bool ConversationStore::touch(const QString &id, qint64 nowMs)
{
    if (!m_db)
        return fail("updating a conversation");
    Stmt st(m_db, "UPDATE conversations SET updated_at_ms = ? WHERE id = ?");
    if (!st.ok())
        return fail("updating a conversation");
    st.bind(1, nowMs);
    st.bind(2, id);
    return st.step() == SQLITE_DONE || fail("updating a conversation");
}

bool ConversationStore::remove(const QString &id)
{
    if (!m_db)
        return fail("deleting a conversation");
    char *msg = nullptr;
    if (sqlite3_exec(m_db, "BEGIN IMMEDIATE", nullptr, nullptr, &msg) != SQLITE_OK) {
        sqlite3_free(msg);
        return fail("deleting a conversation");
    }
    bool ok = true;
    for (const char *sql : {"DELETE FROM messages WHERE conversation_id = ?", "DELETE FROM conversations WHERE id = ?"}) {
        Stmt st(m_db, sql);
        if (!st.ok()) {
            ok = false;
            break;
        }
        st.bind(1, id);
        if (st.step() != SQLITE_DONE) {
            ok = false;
            break;
        }
    }
    if (!ok) {
        fail("deleting a conversation");
        sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
        return false;
    }
    return sqlite3_exec(m_db, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK || fail("deleting a conversation");
}

QList<ConversationMessage> ConversationStore::messages(const QString &conversationId) const
{
    QList<ConversationMessage> out;
    if (!m_db)
        return out;
    Stmt st(m_db, "SELECT round, pane, role, content, images, model_id, request_id, input_tokens, output_tokens, "
                  "cache_read_tokens, cost_nano_usd, ttft_ms, tokens_per_s, error, vote, created_at_ms "
                  "FROM messages WHERE conversation_id = ? ORDER BY round, pane, role DESC");
    if (!st.ok()) {
        fail("reading messages");
        return out;
    }
    st.bind(1, conversationId);
    while (st.step() == SQLITE_ROW) {
        ConversationMessage m;
        m.conversationId = conversationId;
        m.round = int(st.integer(0));
        m.pane = int(st.integer(1));
        m.role = st.text(2);
        m.content = st.text(3);
        m.images = imagesFromJson(st.text(4));
        m.modelId = st.text(5);
        m.requestId = st.text(6);
        m.inputTokens = st.integer(7);
        m.outputTokens = st.integer(8);
        m.cacheReadTokens = st.integer(9);
        if (!st.isNull(10))
            m.cost = st.integer(10);
        m.ttftMs = st.integer(11);
        m.tokensPerSecond = st.real(12);
        m.error = st.text(13);
        m.vote = int(st.integer(14));
        m.createdAtMs = st.integer(15);
        out << m;
    }
    return out;
}

bool ConversationStore::saveMessage(const ConversationMessage &m)
{
    if (!m_db || m.conversationId.isEmpty())
        return fail("saving a message");
    Stmt st(m_db, "INSERT OR REPLACE INTO messages (conversation_id, round, pane, role, content, images, model_id, "
                  "request_id, input_tokens, output_tokens, cache_read_tokens, cost_nano_usd, ttft_ms, tokens_per_s, "
                  "error, vote, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!st.ok())
        return fail("saving a message");
    st.bind(1, m.conversationId);
    st.bind(2, m.round);
    st.bind(3, m.pane);
    st.bind(4, m.role);
    st.bind(5, m.content);
    st.bind(6, imagesToJson(m.images));
    st.bind(7, m.modelId);
    st.bind(8, m.requestId);
    st.bind(9, m.inputTokens);
    st.bind(10, m.outputTokens);
    st.bind(11, m.cacheReadTokens);
    if (m.cost)
        st.bind(12, *m.cost);
    else
        st.bindNull(12);
    st.bind(13, m.ttftMs);
    st.bind(14, m.tokensPerSecond);
    st.bind(15, m.error);
    st.bind(16, m.vote);
    st.bind(17, m.createdAtMs);
    return st.step() == SQLITE_DONE || fail("saving a message");
}

bool ConversationStore::setRoundVote(const QString &conversationId, int round, int chosenPane)
{
    if (!m_db)
        return fail("saving a vote");
    Stmt st(m_db, "UPDATE messages SET vote = CASE WHEN ?3 < 0 THEN -1 WHEN pane = ?3 THEN 1 ELSE 0 END "
                  "WHERE conversation_id = ?1 AND round = ?2 AND role = 'assistant'");
    if (!st.ok())
        return fail("saving a vote");
    st.bind(1, conversationId);
    st.bind(2, round);
    st.bind(3, chosenPane);
    return st.step() == SQLITE_DONE || fail("saving a vote");
}

QString ConversationStore::toMarkdown(const Conversation &c, const QList<ConversationMessage> &messages)
{
    QString out;
    out += QStringLiteral("# %1\n\n").arg(c.title.isEmpty() ? QStringLiteral("Compare") : c.title);
    if (c.createdAtMs > 0)
        out += QStringLiteral("_%1_\n\n").arg(QDateTime::fromMSecsSinceEpoch(c.createdAtMs).toString(Qt::ISODate));
    int round = 0;
    for (const ConversationMessage &m : messages) {
        if (m.round != round) {
            round = m.round;
            out += QStringLiteral("## Round %1\n\n").arg(round);
        }
        if (m.role == QLatin1String("user")) {
            out += QStringLiteral("**You:**\n\n%1\n\n").arg(m.content);
            if (!m.images.isEmpty())
                out += QStringLiteral("_%1 image(s) attached_\n\n").arg(m.images.size());
            continue;
        }
        QString heading = m.modelId.isEmpty() ? QStringLiteral("Pane %1").arg(m.pane + 1) : m.modelId;
        if (m.vote == 1)
            heading += QStringLiteral(" — best answer");
        else if (m.vote == -1)
            heading += QStringLiteral(" — all bad");
        out += QStringLiteral("### %1\n\n").arg(heading);
        if (!m.content.isEmpty())
            out += m.content + QStringLiteral("\n\n");
        if (!m.error.isEmpty())
            out += QStringLiteral("> Error: %1\n\n").arg(m.error);
        QStringList figures;
        if (m.ttftMs >= 0)
            figures << QStringLiteral("first token %1 ms").arg(m.ttftMs);
        if (m.tokensPerSecond > 0)
            figures << QStringLiteral("%1 tokens/s").arg(m.tokensPerSecond, 0, 'f', 1);
        if (m.inputTokens + m.cacheReadTokens + m.outputTokens > 0)
            figures << QStringLiteral("%1 in (%2 cached), %3 out")
                           .arg(m.inputTokens + m.cacheReadTokens)
                           .arg(m.cacheReadTokens)
                           .arg(m.outputTokens);
        if (m.cost)
            figures << QStringLiteral("$%1").arg(toUsd(*m.cost), 0, 'f', 6);
        if (!figures.isEmpty())
            out += QStringLiteral("_%1_\n\n").arg(figures.join(QStringLiteral(" · ")));
    }
    return out;
}

} // namespace gh
