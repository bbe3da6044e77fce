//! `tessera clients list | show | update | delete | rotate-secret`: the operator's client
//! management RPCs, printed as text or `--json`.

use clap::{Args, Subcommand};
use serde_json::json;
use tessera_proto::v1::{
    ClientMetadata, DeleteClientRequest, GetClientRequest, ListClientsRequest,
    RotateClientSecretRequest, UpdateClientRequest,
};

use super::client::{Connection, Operator, authorized, connect, operator_header, print, status};
use super::say;

/// `tessera clients ...`.
#[derive(Debug, Subcommand)]
pub enum ClientsCommand {
    /// List every registered client, in the order of their ids.
    List {
        #[command(flatten)]
        connection: Connection,
        #[command(flatten)]
        operator: Operator,
        /// Clients fetched per request (at most 1000).
        #[arg(long, default_value_t = 100)]
        page_size: u32,
    },
    /// Print one client's metadata.
    Show(ClientArgs),
    /// Change a client's name, redirect URIs or allowed scope (what is not given stays); its
    /// codes and refresh tokens are redeemed from then on only within the new values.
    Update {
        #[command(flatten)]
        client: ClientArgs,
        /// The new name.
        #[arg(long)]
        name: Option<String>,
        /// The new redirect URIs, replacing all of them (repeat for more).
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        /// The new allowed scope, space-separated (`""` for none).
        #[arg(long)]
        scope: Option<String>,
    },
    /// Delete a client: its tokens are inactive at once, its codes and refresh tokens refused.
    Delete(ClientArgs),
    /// Give a confidential client a new secret, printed once; the old one stops working at
    /// once, or after --grace seconds.
    RotateSecret {
        #[command(flatten)]
        client: ClientArgs,
        /// Seconds the old secret keeps working (at most 604800, 7 days).
        #[arg(long, default_value_t = 0)]
        grace: u64,
    },
}

/// The client a command acts on, and how to reach the server.
#[derive(Debug, Args)]
pub struct ClientArgs {
    #[command(flatten)]
    connection: Connection,
    #[command(flatten)]
    operator: Operator,
    /// The client id.
    client_id: String,
}

fn metadata_json(c: &ClientMetadata) -> serde_json::Value {
    json!({
        "client_id": c.client_id,
        "client_name": c.client_name,
        "redirect_uris": c.redirect_uris,
        "scope": c.scope,
        "token_endpoint_auth_method": c.token_endpoint_auth_method,
        "client_id_issued_at": c.client_id_issued_at,
    })
}

/// Runs a `tessera clients` command.
///
/// # Errors
/// The server's refusal, or a connection failure.
pub(super) async fn run(command: ClientsCommand) -> anyhow::Result<()> {
    match command {
        ClientsCommand::List {
            connection,
            operator,
            page_size,
        } => list(&connection, &operator, page_size).await,
        ClientsCommand::Show(args) => {
            let client = get(&args).await?;
            print(args.connection.json, &metadata_json(&client))
        }
        ClientsCommand::Update {
            client: args,
            name,
            redirect_uris,
            scope,
        } => {
            let current = get(&args).await?;
            let request = authorized(
                UpdateClientRequest {
                    client_id: args.client_id.clone(),
                    client_name: name.unwrap_or(current.client_name),
                    redirect_uris: if redirect_uris.is_empty() {
                        current.redirect_uris
                    } else {
                        redirect_uris
                    },
                    scope: scope.unwrap_or(current.scope),
                },
                &operator_header(&args.operator)?,
            )?;
            let r = connect(&args.connection)
                .await?
                .update_client(request)
                .await
                .map_err(status)?
                .into_inner();
            print(
                args.connection.json,
                &metadata_json(&r.client.unwrap_or_default()),
            )
        }
        ClientsCommand::Delete(args) => {
            let request = authorized(
                DeleteClientRequest {
                    client_id: args.client_id.clone(),
                },
                &operator_header(&args.operator)?,
            )?;
            connect(&args.connection)
                .await?
                .delete_client(request)
                .await
                .map_err(status)?;
            print(
                args.connection.json,
                &json!({ "client_id": args.client_id, "deleted": true }),
            )
        }
        ClientsCommand::RotateSecret {
            client: args,
            grace,
        } => {
            let request = authorized(
                RotateClientSecretRequest {
                    client_id: args.client_id.clone(),
                    grace_seconds: grace,
                },
                &operator_header(&args.operator)?,
            )?;
            let r = connect(&args.connection)
                .await?
                .rotate_client_secret(request)
                .await
                .map_err(status)?
                .into_inner();
            if !args.connection.json {
                eprintln!("the new secret is shown once: store it now");
            }
            print(
                args.connection.json,
                &json!({
                    "client_id": args.client_id,
                    "client_secret": r.client_secret,
                    "client_secret_expires_at": r.client_secret_expires_at,
                    "previous_secret_expires_at": r.previous_secret_expires_at,
                }),
            )
        }
    }
}

async fn get(args: &ClientArgs) -> anyhow::Result<ClientMetadata> {
    let request = authorized(
        GetClientRequest {
            client_id: args.client_id.clone(),
        },
        &operator_header(&args.operator)?,
    )?;
    let r = connect(&args.connection)
        .await?
        .get_client(request)
        .await
        .map_err(status)?
        .into_inner();
    r.client
        .ok_or_else(|| anyhow::anyhow!("the server answered without the client"))
}

/// Every page, one request each: text prints a line per client, `--json` one array.
async fn list(connection: &Connection, operator: &Operator, page_size: u32) -> anyhow::Result<()> {
    let header = operator_header(operator)?;
    let mut api = connect(connection).await?;
    let mut page_token = String::new();
    let mut all = Vec::new();
    loop {
        let request = authorized(
            ListClientsRequest {
                page_size,
                page_token: core::mem::take(&mut page_token),
            },
            &header,
        )?;
        let r = api
            .list_clients(request)
            .await
            .map_err(status)?
            .into_inner();
        for client in &r.clients {
            if connection.json {
                all.push(metadata_json(client));
            } else {
                say!(
                    "{}  {}  {}  scope={:?}",
                    client.client_id,
                    client.token_endpoint_auth_method,
                    client.client_name,
                    client.scope
                );
            }
        }
        if r.next_page_token.is_empty() {
            break;
        }
        page_token = r.next_page_token;
    }
    if connection.json {
        say!("{}", json!({ "clients": all }));
    }
    Ok(())
}
