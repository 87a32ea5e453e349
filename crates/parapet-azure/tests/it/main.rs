//! Azure against a fake of Resource Manager and of Entra ID's token
//! endpoint, built from Microsoft's REST API specifications
//! (`parapet-azure-fake`), and a Storage queue on Azurite, on 127.0.0.1.

mod arm;
mod collect;
mod provider;
mod queue;
mod queue_client;
