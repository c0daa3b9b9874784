//! A sale's items on its order's row (`store::batch::sales`), as each way of writing orders
//! keeps them, against a temporary `orders` table on the test's Postgres.

use sqlx::postgres::PgConnection;
use warung_actors::domain::{CustomerId, Money, OrderId, ProductCode};
use warung_actors::journal::{Entry, Event, ReservationRow, ReservationStatus};
use warung_actors::product::Reserved;

use crate::records::{OrderRow, OrderState, PaymentMethod, ShopRecord};
use crate::store::batch::{Batch, OrderWrites};
use crate::store::combined::Combined;

const ORDER: &str = "TRX-00000000aa-1";

async fn connection() -> PgConnection {
    let options = crate::store::postgres_options("postgres://postgres@127.0.0.1:5432/postgres").unwrap();
    let mut conn: PgConnection = sqlx::ConnectOptions::connect(&options).await.expect("the test's Postgres");
    sqlx::query(
        "CREATE TEMP TABLE orders (id TEXT PRIMARY KEY, customer TEXT, product TEXT, quantity BIGINT, \
         unit_price NUMERIC, total NUMERIC, method TEXT, state TEXT, expires_at BIGINT, note TEXT, \
         created_at BIGINT, updated_at BIGINT, sold_items TEXT)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    conn
}

fn order_row(state: OrderState, at: i64, creates: bool) -> Entry<ShopRecord> {
    let reserved = Reserved {
        order: OrderId::parse(ORDER).unwrap(),
        quantity: 1,
        unit_price: Money::rupiah(5_000),
        total: Money::rupiah(5_000),
        expires_at: 60_000,
    };
    let (customer, product) = (CustomerId::parse("6281100").unwrap(), ProductCode::parse("kopi").unwrap());
    let mut row = OrderRow::of_reservation(&customer, &product, &reserved, PaymentMethod::Saldo, state, at);
    row.creates = creates;
    Entry::Attached(ShopRecord::Order(row))
}

/// The commit that first stores a saldo sale's reservation, item 7.
fn sale(at: i64) -> Entry<ShopRecord> {
    Entry::Event(Event::Reservation(ReservationRow {
        order: OrderId::parse(ORDER).unwrap(),
        product: ProductCode::parse("kopi").unwrap(),
        quantity: 1,
        unit_price: Money::rupiah(5_000),
        items: vec![7],
        expires_at: 60_000,
        status: ReservationStatus::Committed,
        release_reason: String::new(),
        updated_at: at,
        creates: true,
    }))
}

async fn write(conn: &mut PgConnection, entries: &[Entry<ShopRecord>], writes: OrderWrites) {
    let mut batch = Batch::of(entries);
    batch.order_writes = writes;
    let mut statement = Combined::default();
    super::write_orders(&mut statement, &batch);
    statement.execute(conn).await.unwrap();
}

async fn stored(conn: &mut PgConnection) -> (String, i64, Option<String>) {
    sqlx::query_as("SELECT state, updated_at, sold_items FROM orders WHERE id = $1")
        .bind(ORDER)
        .fetch_one(conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_orders_later_rows_keep_the_items_its_sale_stored() {
    let mut conn = connection().await;
    write(
        &mut conn,
        &[order_row(OrderState::Pending, 1, true), order_row(OrderState::Paid, 2, false), sale(2)],
        OrderWrites::InsertNew,
    )
    .await;
    assert_eq!(stored(&mut conn).await, ("paid".into(), 2, Some("7".into())));
    write(&mut conn, &[order_row(OrderState::Refunded, 3, false)], OrderWrites::InsertNew).await;
    assert_eq!(stored(&mut conn).await, ("refunded".into(), 3, Some("7".into())), "the refund keeps the items");
}

/// On a cluster one order's rows come from two nodes' projections: the refund's row may reach
/// the table before the paid row that carries the sale's items.
#[tokio::test]
async fn a_sales_items_reach_an_order_upserted_forward_whichever_row_comes_first() {
    let mut conn = connection().await;
    write(&mut conn, &[order_row(OrderState::Pending, 1, true)], OrderWrites::UpsertForward).await;
    write(&mut conn, &[order_row(OrderState::Refunded, 3, false)], OrderWrites::UpsertForward).await;
    write(&mut conn, &[order_row(OrderState::Paid, 2, false), sale(2)], OrderWrites::UpsertForward).await;
    assert_eq!(
        stored(&mut conn).await,
        ("refunded".into(), 3, Some("7".into())),
        "the later state stays, the items land"
    );

    write(&mut conn, &[order_row(OrderState::Paid, 2, false)], OrderWrites::UpsertForward).await;
    assert_eq!(stored(&mut conn).await, ("refunded".into(), 3, Some("7".into())), "an older row changes nothing");
}
