#include "store/requestcodec.h"

namespace gh::store {

QByteArray insertRequestSql()
{
    QByteArray sql = QByteArray("INSERT INTO requests (") + kRequestColumns + ") VALUES (";
    for (int i = 1; i <= kRequestColumnCount; ++i)
        sql += (i > 1 ? ", ?" : "?") + QByteArray::number(i);
    return sql + ')';
}

} // namespace gh::store
