#pragma once
#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringView>
#include <sqlite3.h>
#include <optional>
#include <variant>
#include <vector>

// The one SQLite wrapper of the project: every connection and statement of the SQLite back-end
// (the store's writer and control-plane connections, the analytics and activity reads, the Compare
// conversations) goes through it. Nothing outside app/store/ includes <sqlite3.h> or this header.
namespace gh::sqlite {

// SQLite's message for the last error of `db` ("out of memory" when there is no connection).
[[nodiscard]] QString errorOf(sqlite3 *db);

enum class Access {
    ReadWriteCreate, // the store's own connections: creates the file when missing
    ReadWrite,       // an existing file
    ReadOnly,        // readers beside the writer (WAL lets them read while it commits)
};
// Opens a connection (no shared cache, no mutex: one thread uses it at a time, extended result
// codes) and sets its busy timeout. nullptr and *error on failure.
[[nodiscard]] sqlite3 *open(const QString &path, Access access, int busyTimeoutMs, QString *error);
// Closes `db` (nullptr is fine); statements still open are finalized when they are destroyed.
void close(sqlite3 *db);
// Runs one or more statements that return no rows.
bool exec(sqlite3 *db, const char *sql, QString *error = nullptr);

// A statement argument bound by position (filters built at run time).
using Value = std::variant<qint64, QString>;

// A prepared statement. Bind indexes are 1-based, column indexes 0-based, as in SQLite. A statement
// on a null connection, or whose SQL does not prepare, is not prepared(): binds are ignored, step()
// returns SQLITE_MISUSE and next() false, error() says why.
class Statement
{
public:
    Statement(sqlite3 *db, const char *sql, bool persistent = false);
    Statement(sqlite3 *db, const QByteArray &sql, bool persistent = false) : Statement(db, sql.constData(), persistent) {}
    // Prepared, with `args` bound to ?1..?N.
    Statement(sqlite3 *db, const QByteArray &sql, const QList<Value> &args);
    ~Statement();
    Statement(const Statement &) = delete;
    Statement &operator=(const Statement &) = delete;

    [[nodiscard]] bool prepared() const { return m_stmt != nullptr; }
    // Prepared and no step has failed.
    [[nodiscard]] bool ok() const;
    [[nodiscard]] int rc() const { return m_rc; }
    [[nodiscard]] QString error() const;

    // The log writer binds 27 parameters a row: the binds, step() and reset() are inline, as they were
    // in the writer's own statement class.
    void bindText(int i, const QString &v)
    {
        if (!m_stmt)
            return;
        if (m_keepBindings) {
            // The UTF-8 stays here until the next bind of this parameter, so SQLite need not copy it;
            // the buffer is reused from row to row (no allocation once it has grown).
            QByteArray &utf8 = m_texts[std::size_t(i)];
            if (toUtf8Into(v, utf8) && m_held[std::size_t(i)] == Held::Text)
                return; // the same bytes in the same buffer are bound already
            m_held[std::size_t(i)] = Held::Text;
            // Never a null pointer: SQLite would bind NULL, not '' (NOT NULL columns).
            sqlite3_bind_text(m_stmt, i, utf8.isNull() ? "" : utf8.constData(), int(utf8.size()), SQLITE_STATIC);
            return;
        }
        const QByteArray utf8 = v.toUtf8();
        sqlite3_bind_text(m_stmt, i, utf8.constData(), int(utf8.size()), SQLITE_TRANSIENT);
    }
    void bindInt(int i, qint64 v)
    {
        if (!m_stmt)
            return;
        if (m_keepBindings) {
            const auto at = std::size_t(i);
            if (m_held[at] == Held::Int && m_ints[at] == v)
                return; // bound already
            m_held[at] = Held::Int;
            m_ints[at] = v;
        }
        sqlite3_bind_int64(m_stmt, i, v);
    }
    void bindBool(int i, bool v) { bindInt(i, v ? 1 : 0); }
    void bindNull(int i);
    void bindDouble(int i, double v);
    void bindReal(int i, std::optional<double> v);
    void bindOptInt(int i, std::optional<qint64> v)
    {
        if (v)
            bindInt(i, *v);
        else
            bindNull(i);
    }
    void bindBlob(int i, const QByteArray &v);
    void bind(int i, const QString &v) { bindText(i, v); }
    void bind(int i, qint64 v) { bindInt(i, v); }
    void bind(int i, int v) { bindInt(i, v); }
    void bind(int i, double v) { bindDouble(i, v); }
    void bind(int i, const Value &v);
    void bindAll(const QList<Value> &args); // ?1..?N

    // SQLITE_ROW, SQLITE_DONE or an error code.
    int step()
    {
        m_rc = m_stmt ? sqlite3_step(m_stmt) : SQLITE_MISUSE;
        return m_rc;
    }
    // Steps to the next row: true while there is one. A failure is logged and makes ok() false.
    [[nodiscard]] bool next();
    [[nodiscard]] bool done() const;
    // Runs a statement that returns no rows.
    bool exec();
    void reset()
    {
        if (!m_stmt)
            return;
        sqlite3_reset(m_stmt);
        if (!m_keepBindings)
            sqlite3_clear_bindings(m_stmt);
    }
    // For the log writer's statements, which bind every parameter for every row: text parameters are
    // bound without a copy (kept in this statement until rebound) and reset() leaves the bindings,
    // which the next row replaces (clearing them cost more than binding). A bind of the value the
    // parameter holds already (most of a log row's columns repeat from row to row: endpoint, key,
    // model, provider, empty texts, zeros) is skipped: SQLite keeps bindings across reset(), and this
    // class is the only one that binds its statement, so what it last bound is what SQLite holds.
    void keepBindings();
    // `v` in UTF-8 into `out`, reusing out's capacity; true when out kept both its bytes and its
    // storage (what was bound from it is still valid and equal). The texts of a log row are ASCII in
    // practice (ids, model and provider names, endpoints, empty errors): narrowed in one pass without
    // an allocation, where QString::toUtf8 allocated a new array per text (BENCHMARKS.md, issue 19,
    // seventh session); any other text goes through toUtf8.
    static bool toUtf8Into(const QString &v, QByteArray &out)
    {
        const QStringView view(v);
        const qsizetype n = view.size();
        const char16_t *src = view.utf16();
        const char *before = out.constData();
        const bool sameSize = out.size() == n;
        if (!sameSize)
            out.resize(n); // keeps the capacity when shorter
        char *dst = out.data();
        char16_t seen = 0;
        unsigned char differs = 0;
        for (qsizetype k = 0; k < n; ++k) {
            const char c = char(src[k]);
            seen |= src[k];
            differs |= static_cast<unsigned char>(dst[k] ^ c);
            dst[k] = c;
        }
        if (seen >= 0x80) {
            out = v.toUtf8();
            return false;
        }
        return sameSize && differs == 0 && out.constData() == before;
    }

    [[nodiscard]] bool isNull(int c) const;
    [[nodiscard]] qint64 integer(int c) const;
    [[nodiscard]] bool boolean(int c) const { return integer(c) != 0; }
    [[nodiscard]] double real(int c) const;
    [[nodiscard]] std::optional<qint64> optInteger(int c) const;
    [[nodiscard]] std::optional<double> optReal(int c) const;
    [[nodiscard]] QString text(int c) const;
    // The column's UTF-8 bytes without a copy, valid until the next step.
    [[nodiscard]] QByteArray rawText(int c) const;
    [[nodiscard]] QByteArray blob(int c) const;

private:
    sqlite3 *m_db = nullptr;
    sqlite3_stmt *m_stmt = nullptr;
    int m_rc = 0;
    bool m_failed = false;
    bool m_keepBindings = false;
    // With keepBindings(), by parameter index: what SQLite holds (Unknown: a NULL, a double, a blob,
    // or nothing bound yet), the UTF-8 of a text and the value of an integer.
    enum class Held : unsigned char { Unknown, Int, Text };
    std::vector<Held> m_held;
    std::vector<QByteArray> m_texts;
    std::vector<qint64> m_ints;
    void forget(int i)
    {
        if (m_keepBindings)
            m_held[std::size_t(i)] = Held::Unknown;
    }
};

// The first column of the first row, or 0 (and *ok false when the statement failed).
[[nodiscard]] qint64 scalar(sqlite3 *db, const QByteArray &sql, const QList<Value> &args = {}, bool *ok = nullptr);

} // namespace gh::sqlite
